package generator

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/schemas"
)

func testConfig(shops, sessionsPerDay, days int) Config {
	cfg := DefaultConfig()
	cfg.Shops = shops
	cfg.SessionsPerShopDay = sessionsPerDay
	cfg.Days = days
	return cfg
}

func generate(t testing.TB, cfg Config, fn func(*Record)) Stats {
	t.Helper()
	st, err := Generate(context.Background(), cfg, func(r *Record) error { fn(r); return nil })
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return st
}

// digest hashes every record's topic, key, value, ts and poison reason.
func digest(t testing.TB, cfg Config) ([32]byte, Stats) {
	h := sha256.New()
	var ts [8]byte
	st := generate(t, cfg, func(r *Record) {
		binary.LittleEndian.PutUint64(ts[:], uint64(r.TS))
		h.Write([]byte(r.Topic + "|" + string(r.Key) + "|" + string(r.Poison) + "|"))
		h.Write(r.Value)
		h.Write(ts[:])
	})
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, st
}

func TestSameSeedSameBytes(t *testing.T) {
	cfg := testConfig(3, 300, 2)
	cfg.DuplicateRate, cfg.PoisonRate, cfg.LateRate = 0.02, 0.02, 0.001
	a, sa := digest(t, cfg)
	b, _ := digest(t, cfg)
	if a != b {
		t.Fatal("two runs with the same config differ")
	}
	cfg.Seed++
	c, _ := digest(t, cfg)
	if a == c {
		t.Fatal("a different seed gave the same output")
	}
	if sa.Records < 10_000 {
		t.Fatalf("only %d records", sa.Records)
	}
}

// The delivery knobs change order and extras, never the traffic itself.
func TestDeliveryKnobsKeepTheTraffic(t *testing.T) {
	cfg := testConfig(2, 200, 1)
	events := func(cfg Config) map[string]string {
		m := map[string]string{}
		generate(t, cfg, func(r *Record) {
			if r.Poison == "" {
				m[string(shopIDOf(r.Value))+string(r.Value[:40])] = string(r.Value)
			}
		})
		return m
	}
	plain := events(cfg)
	cfg.Disorder, cfg.DuplicateRate, cfg.PoisonRate = 0, 0.1, 0.1
	noisy := events(cfg)
	if len(plain) != len(noisy) {
		t.Fatalf("%d distinct events with the defaults, %d with other delivery settings", len(plain), len(noisy))
	}
	for k, v := range plain {
		if noisy[k] != v {
			t.Fatalf("event differs:\n%s\n%s", v, noisy[k])
		}
	}
}

func TestDisorderBound(t *testing.T) {
	for _, disorder := range []time.Duration{0, time.Second, 5 * time.Second, MaxDisorder - time.Millisecond} {
		cfg := testConfig(5, 400, 1)
		cfg.Disorder, cfg.DuplicateRate, cfg.PoisonRate = disorder, 0.05, 0.05
		var maxTS, displaced int64
		generate(t, cfg, func(r *Record) {
			if r.TS < maxTS-disorder.Milliseconds() {
				t.Fatalf("Disorder %v: ts %d is %d ms behind the max %d", disorder, r.TS, maxTS-r.TS, maxTS)
			}
			if r.TS < maxTS {
				displaced++
			}
			maxTS = max(maxTS, r.TS)
		})
		if disorder > 0 && displaced == 0 {
			t.Errorf("Disorder %v: no record out of order", disorder)
		}
	}
}

func TestLateEventsAreLateBy(t *testing.T) {
	cfg := testConfig(3, 300, 1)
	cfg.LateRate = 0.01
	var maxTS, late int64
	st := generate(t, cfg, func(r *Record) {
		if r.TS < maxTS-cfg.Disorder.Milliseconds() {
			late++ // the exact lag depends on the traffic around it: at night, few records
		}
		maxTS = max(maxTS, r.TS)
	})
	if st.Late == 0 || late < st.Late/2 || late > st.Late {
		t.Fatalf("Stats.Late %d, records seen late %d", st.Late, late)
	}
}

// Every record is valid under SPEC §1, except poison, which never is.
func TestEveryRecordValid(t *testing.T) {
	cfg := testConfig(4, 500, 2)
	cfg.Zones = map[string]string{"shop-0003": "Europe/London"}
	cfg.DuplicateRate, cfg.PoisonRate = 0.01, 0.01
	var valid, poison int64
	st := generate(t, cfg, func(r *Record) {
		_, err := checkSpec(r)
		switch {
		case r.Poison == "" && err != nil:
			t.Fatalf("invalid record: %v\n%s", err, r.Value)
		case r.Poison != "" && err == nil:
			t.Fatalf("poison %s passes as valid:\n%s", r.Poison, r.Value)
		case r.Poison != "":
			poison++
		default:
			valid++
		}
		if r.Kind.String() == "invalid" || schemas.DefaultTopicNames[r.Kind] != r.Topic {
			t.Fatalf("record of topic %q has kind %v", r.Topic, r.Kind)
		}
	})
	if valid+poison != st.Records || poison != st.Poison {
		t.Fatalf("counted %d valid + %d poison, stats say %d records, %d poison", valid, poison, st.Records, st.Poison)
	}
}

func TestDuplicateAndPoisonRates(t *testing.T) {
	cfg := testConfig(5, 600, 1)
	cfg.DuplicateRate, cfg.PoisonRate = 0.03, 0.02
	seen := map[string]int{}
	var records, dups, poison int64
	st := generate(t, cfg, func(r *Record) {
		records++
		if r.Poison != "" {
			poison++
			return
		}
		id := string(r.Value[len(`{"event_id":"`):bytesIndex(r.Value, `","shop_id"`)])
		if seen[id]++; seen[id] > 1 {
			dups++
		}
	})
	events := int64(len(seen))
	if st.Events != events || st.Duplicates != dups || st.Poison != poison || st.Records != records {
		t.Fatalf("stats %+v disagree with the records: %d events, %d dups, %d poison", st, events, dups, poison)
	}
	within(t, "duplicate rate", float64(dups)/float64(events), 0.03, 0.004)
	within(t, "poison rate", float64(poison)/float64(events+dups), 0.02, 0.004)
	for _, reason := range poisonKinds {
		if reason != schemas.ReasonUnknownEnum && st.PoisonByReason[reason] == 0 {
			t.Errorf("no poison of reason %s", reason)
		}
	}
	if st.PoisonByReason[schemas.ReasonUnknownEnum]+st.PoisonByReason[schemas.ReasonOutOfRange] == 0 {
		t.Errorf("poison by reason: %v", st.PoisonByReason)
	}
}

func bytesIndex(b []byte, s string) int { return strings.Index(string(b), s) }

func within(t *testing.T, what string, got, want, tolerance float64) {
	t.Helper()
	if got < want-tolerance || got > want+tolerance {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tolerance)
	}
	t.Logf("%s = %.4f (want %.4f ± %.4f)", what, got, want, tolerance)
}

// The shape of the traffic over a large run, from the run's own counters.
func TestDistribution(t *testing.T) {
	cfg := testConfig(20, 2000, 2)
	st, err := Generate(context.Background(), cfg, func(*Record) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	perShopDay := float64(st.Sessions) / float64(cfg.Shops*cfg.Days)
	within(t, "sessions per shop-day / SessionsPerShopDay", perShopDay/float64(cfg.SessionsPerShopDay), 1.0, 0.05)
	ratio := func(a, b int64) float64 { return float64(a) / float64(b) }
	within(t, "proactive share", ratio(st.ProactiveSessions, st.Sessions), 0.045, 0.015)
	within(t, "robot call share", ratio(st.RobotCalls, st.Sessions), 0.037, 0.015)
	within(t, "buyer sessions queued", ratio(st.Queued, st.BuyerSessions), 0.61, 0.03)
	within(t, "queued sessions abandoned", ratio(st.Abandoned, st.Queued), 0.055, 0.015)
	within(t, "sessions ended (not timed out)", ratio(st.Ended, st.Ended+st.TimedOut), 0.81, 0.03)
	within(t, "human sessions rated", ratio(st.Evaluations-st.ReRatings, st.Assigned), 0.30, 0.02)
	within(t, "ratings re-rated", ratio(st.ReRatings, st.Evaluations-st.ReRatings), 0.05, 0.015)
	within(t, "transfers per human session", ratio(st.Transfers, st.Assigned), 0.07, 0.02)
	within(t, "robot calls connected", ratio(st.RobotConnected, st.RobotCalls), 0.60, 0.04)
	within(t, "orders paid", ratio(st.OrdersPaid, st.OrdersCreated), 0.87, 0.03)
	within(t, "orders per buyer session", ratio(st.OrdersCreated, st.BuyerSessions), 0.25, 0.07)
	if st.Sessions != st.Ended+st.TimedOut {
		t.Errorf("%d sessions but %d ended + %d timed out", st.Sessions, st.Ended, st.TimedOut)
	}
}

// Memory must not grow with the number of days: the pending queue of a
// 7-day run peaks no higher than that of a 2-day run.
func TestPendingQueueStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("7 days × 50 shops")
	}
	peak := func(start time.Time, days int) Stats {
		cfg := testConfig(50, 200, days)
		cfg.Start = start
		st, err := Generate(context.Background(), cfg, func(*Record) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// Monday to Sunday against the busier weekend alone.
	seven := peak(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), 7)
	two := peak(time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC), 2)
	t.Logf("2 days: %d records, max pending %d; 7 days: %d records, max pending %d",
		two.Records, two.MaxPending, seven.Records, seven.MaxPending)
	if seven.Records < 3*two.Records {
		t.Fatalf("7 days gave %d records, 2 days %d", seven.Records, two.Records)
	}
	if float64(seven.MaxPending) > 1.25*float64(two.MaxPending) {
		t.Fatalf("max pending grew from %d (2 days) to %d (7 days)", two.MaxPending, seven.MaxPending)
	}
	// Bounded by the sessions in progress plus the tail of ratings and
	// orders: a small fraction of a day's events.
	if limit := seven.Records / 7 / 10; int64(seven.MaxPending) > limit {
		t.Fatalf("max pending %d over %d", seven.MaxPending, limit)
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	st, err := Generate(context.Background(), testConfig(2, 100, 1), func(*Record) error {
		if n++; n == 50 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 50 || st.Records != 49 {
		t.Fatalf("err %v after %d calls, %d records", err, n, st.Records)
	}
}

func TestContextCancelStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Generate(ctx, testConfig(2, 2000, 5), func(*Record) error {
		if n++; n == 1000 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 100_000 {
		t.Fatalf("err %v after %d records", err, n)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := map[string]func(*Config){
		"Shops":              func(c *Config) { c.Shops = 0 },
		"AgentsPerShop":      func(c *Config) { c.AgentsPerShop = 100 },
		"Days":               func(c *Config) { c.Days = 0 },
		"Start":              func(c *Config) { c.Start = time.Time{} },
		"SessionsPerShopDay": func(c *Config) { c.SessionsPerShopDay = 0 },
		"Disorder":           func(c *Config) { c.Disorder = MaxDisorder },
		"DuplicateRate":      func(c *Config) { c.DuplicateRate = 1.5 },
		"PoisonRate":         func(c *Config) { c.PoisonRate = -0.1 },
		"LateRate":           func(c *Config) { c.LateRate = 2 },
		"LateBy":             func(c *Config) { c.LateRate, c.LateBy = 0.1, time.Second },
		"DefaultZone":        func(c *Config) { c.DefaultZone = "Mars/Olympus" },
		"AltZone":            func(c *Config) { c.AltZone = "" },
		"Zones":              func(c *Config) { c.Zones = map[string]string{"shop-0042": "UTC"} },
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	for field, breakIt := range cases {
		cfg := DefaultConfig()
		breakIt(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "Config."+field) {
			t.Errorf("%s: got %v", field, err)
		}
		if _, gerr := Generate(context.Background(), cfg, func(*Record) error { return nil }); gerr == nil {
			t.Errorf("%s: Generate accepted the config", field)
		}
	}
}

func TestShopZones(t *testing.T) {
	cfg := testConfig(23, 10, 1)
	cfg.Zones = map[string]string{"shop-0005": "Europe/Berlin"}
	z := cfg.ShopZones()
	want := map[string]string{"shop-0001": "Asia/Shanghai", "shop-0002": "America/New_York",
		"shop-0005": "Europe/Berlin", "shop-0012": "America/New_York", "shop-0013": "Asia/Shanghai",
		"shop-0022": "America/New_York", "shop-0023": "Asia/Shanghai"}
	for shop, zone := range want {
		if z[shop] != zone {
			t.Errorf("%s in %q, want %q", shop, z[shop], zone)
		}
	}
	if len(z) != 23 {
		t.Errorf("%d zones for 23 shops", len(z))
	}
}

// A New York shop across the end of DST has a 25-hour local day, and its
// traffic follows the local clock on both sides of it.
func TestDSTDay(t *testing.T) {
	cfg := testConfig(2, 3000, 3)
	cfg.Start = time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	g, err := newGenerator(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ny := g.shops[1]
	if got := time.Duration(ny.end-ny.start) * time.Millisecond; got != 73*time.Hour {
		t.Fatalf("3 local days from 2026-10-31 in New York last %v, want 73h", got)
	}
	loc, _ := time.LoadLocation("America/New_York")
	var byLocalHour [3][24]int // per local day
	generate(t, cfg, func(r *Record) {
		if string(r.Key) != "shop-0002" || !strings.Contains(string(r.Value), `"type":"started"`) {
			return
		}
		lt := time.UnixMilli(r.TS).In(loc)
		if d := lt.Day() - 31; d >= 0 && d < 1 {
			byLocalHour[0][lt.Hour()]++
		} else if d := lt.Day(); d >= 1 && d <= 2 {
			byLocalHour[d][lt.Hour()]++
		}
		if got := ny.localHour(r.TS); got != lt.Hour() {
			t.Fatalf("localHour(%d) = %d, time says %d", r.TS, got, lt.Hour())
		}
	})
	for d, hours := range byLocalHour {
		if peak, night := hours[10]+hours[11]+hours[20]+hours[21], hours[2]+hours[3]+hours[4]+hours[5]; peak < 4*night {
			t.Errorf("local day %d: %d sessions at peak hours, %d at night", d, peak, night)
		}
	}
}

// A shop's traffic does not depend on how many other shops the run has.
func TestShopTrafficIndependentOfShopCount(t *testing.T) {
	events := func(shops int) map[string]bool {
		m := map[string]bool{}
		generate(t, testConfig(shops, 300, 1), func(r *Record) {
			if string(r.Key) == "shop-0001" {
				m[string(r.Value)] = true
			}
		})
		return m
	}
	one, three := events(1), events(3)
	if len(one) == 0 || len(one) != len(three) {
		t.Fatalf("shop-0001 has %d events alone, %d among three shops", len(one), len(three))
	}
	for v := range one {
		if !three[v] {
			t.Fatalf("event missing among three shops: %s", v)
		}
	}
}
