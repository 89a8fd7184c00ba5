package generator

import (
	"fmt"
	"math"
	"time"
)

// MaxDisorder is the exclusive upper bound of Config.Disorder: the pipeline's
// default max_out_of_order (SPEC §2). Displacing records by more would turn
// ordinary traffic into late data; use LateRate for that on purpose.
const MaxDisorder = 10 * time.Second

// Limits that keep ids at their documented widths.
const (
	MaxShops         = 9999 // shop-0001 … shop-9999
	MaxAgentsPerShop = 99   // shop-0001-a01 … shop-0001-a99 (a00 is the supervisor account)
)

// Config describes one synthetic run. Start from DefaultConfig and change
// what you need; Validate tells which field is wrong.
type Config struct {
	// Seed makes a run reproducible: the same Config gives byte-identical
	// output.
	Seed int64
	// Shops is the number of shops, named shop-0001, shop-0002, …
	Shops int
	// AgentsPerShop is the number of human agents per shop, named
	// shop-0001-a01, …; about 60 % are in group "pre-sales", the rest in
	// "after-sales". Every shop also has the supervisor account a00 (see
	// SupervisorAgentID), which is never assigned.
	AgentsPerShop int
	// Days is the number of local days generated per shop.
	Days int
	// Start gives the first day: only its calendar date (in Start's own
	// location) is used, and each shop's first day begins at midnight of
	// that date in the shop's zone.
	Start time.Time
	// DefaultZone is the IANA zone of every shop not otherwise placed.
	DefaultZone string
	// AltZone and AltZoneEvery put one shop in AltZoneEvery into AltZone:
	// shop-0002, then every AltZoneEvery-th after it (so even a two-shop run
	// crosses zones). AltZoneEvery 0 turns this off.
	AltZone      string
	AltZoneEvery int
	// Zones places single shops (shop id → IANA zone); it wins over the two
	// rules above.
	Zones map[string]string
	// SessionsPerShopDay is the average number of sessions (all origins)
	// started per shop and local day; shops vary around it (a few big ones,
	// many small ones), weekends are a little busier. Follow-up sessions of
	// returning buyers come on top (a few percent).
	SessionsPerShopDay int
	// Disorder bounds how far a record may be displaced from event-time
	// order: every record's ts is ≥ the largest ts emitted before it minus
	// Disorder. Must be < MaxDisorder.
	Disorder time.Duration
	// DuplicateRate is the fraction of events emitted a second time with
	// the same event_id and bytes (a re-delivery).
	DuplicateRate float64
	// PoisonRate is the number of extra malformed records per valid record
	// (not JSON, missing field, unknown enum, ts out of range, wrong type,
	// key not the shop_id). Record.Poison says which.
	PoisonRate float64
	// LateRate is the fraction of events delivered LateBy after their event
	// time instead of within Disorder: beyond the pipeline's
	// allowed_lateness they exercise the `late` dead-letter path. Default 0.
	LateRate float64
	LateBy   time.Duration
	// SlipEvery makes one shop in SlipEvery slip for two hours, so that
	// alerts have something to report: shop-0003, then every
	// SlipEvery-th after it. From 10:00 to 12:00 local on its first day,
	// 80 % of its agents' replies take more than 3 minutes; the rest of the
	// day is as usual. 0 turns it off.
	SlipEvery int
}

// DefaultConfig is a small but complete run: 10 shops, one of them in
// America/New_York, one day starting Monday 2026-11-02.
//
// Note that the US leave daylight saving time on Sunday 2026-11-01, the day
// before the default Start; to put a 25-hour local day in the run, start on
// 2026-10-31 or 2026-11-01.
func DefaultConfig() Config {
	return Config{
		Seed:               1,
		Shops:              10,
		AgentsPerShop:      8,
		Days:               1,
		Start:              time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		DefaultZone:        "Asia/Shanghai",
		AltZone:            "America/New_York",
		AltZoneEvery:       10,
		SessionsPerShopDay: 2000,
		Disorder:           5 * time.Second,
		LateBy:             2 * time.Hour,
		SlipEvery:          10,
	}
}

// Validate checks every field and names the first wrong one.
func (c Config) Validate() error {
	checks := []struct {
		bad   bool
		field string
		want  string
		got   any
	}{
		{c.Shops < 1 || c.Shops > MaxShops, "Shops", fmt.Sprintf("1..%d", MaxShops), c.Shops},
		{c.AgentsPerShop < 1 || c.AgentsPerShop > MaxAgentsPerShop, "AgentsPerShop", fmt.Sprintf("1..%d", MaxAgentsPerShop), c.AgentsPerShop},
		{c.Days < 1 || c.Days > 3660, "Days", "1..3660", c.Days},
		{c.Start.IsZero(), "Start", "a date", c.Start},
		{c.SessionsPerShopDay < 1 || c.SessionsPerShopDay > 10_000_000, "SessionsPerShopDay", "1..10000000", c.SessionsPerShopDay},
		{c.Disorder < 0 || c.Disorder >= MaxDisorder, "Disorder", "0 ≤ Disorder < " + MaxDisorder.String(), c.Disorder},
		{!isRate(c.DuplicateRate), "DuplicateRate", "a fraction in [0, 1]", c.DuplicateRate},
		{!isRate(c.PoisonRate), "PoisonRate", "a fraction in [0, 1]", c.PoisonRate},
		{!isRate(c.LateRate), "LateRate", "a fraction in [0, 1]", c.LateRate},
		{c.LateRate > 0 && c.LateBy < MaxDisorder, "LateBy", "≥ " + MaxDisorder.String() + " when LateRate > 0", c.LateBy},
		{c.AltZoneEvery < 0, "AltZoneEvery", "≥ 0", c.AltZoneEvery},
		{c.SlipEvery < 0, "SlipEvery", "≥ 0", c.SlipEvery},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("generator: Config.%s must be %s, got %v", ch.field, ch.want, ch.got)
		}
	}
	if _, err := time.LoadLocation(c.DefaultZone); err != nil || c.DefaultZone == "" {
		return fmt.Errorf("generator: Config.DefaultZone: unknown zone %q", c.DefaultZone)
	}
	if c.AltZoneEvery > 0 {
		if _, err := time.LoadLocation(c.AltZone); err != nil || c.AltZone == "" {
			return fmt.Errorf("generator: Config.AltZone: unknown zone %q", c.AltZone)
		}
	}
	for id, zone := range c.Zones {
		if n := shopNumber(id); n < 1 || n > c.Shops {
			return fmt.Errorf("generator: Config.Zones: %q is not one of shop-0001..%s", id, ShopID(c.Shops))
		}
		if _, err := time.LoadLocation(zone); err != nil || zone == "" {
			return fmt.Errorf("generator: Config.Zones[%q]: unknown zone %q", id, zone)
		}
	}
	return nil
}

func isRate(f float64) bool { return f >= 0 && f <= 1 && !math.IsNaN(f) }

// ShopZones returns the IANA zone of every shop of the run. The pipeline's
// per-shop zone config must say the same, or its local days and hours will
// not be the ones the traffic was shaped for.
func (c Config) ShopZones() map[string]string {
	zones := make(map[string]string, c.Shops)
	for n := 1; n <= c.Shops; n++ {
		zones[ShopID(n)] = c.zoneOf(n)
	}
	return zones
}

func (c Config) zoneOf(n int) string {
	id := ShopID(n)
	if z, ok := c.Zones[id]; ok {
		return z
	}
	if c.AltZoneEvery > 0 && n >= 2 && (n-2)%c.AltZoneEvery == 0 {
		return c.AltZone
	}
	return c.DefaultZone
}

// ShopID names shop n (1-based): "shop-0001".
func ShopID(n int) string { return fmt.Sprintf("shop-%04d", n) }

// AgentID names agent n (1-based) of a shop: "shop-0001-a01".
func AgentID(shopID string, n int) string { return fmt.Sprintf("%s-a%02d", shopID, n) }

// SupervisorAgentID is the shop's supervisor account (a00): it now and then
// writes into a conversation but is never assigned. List it in the
// pipeline's agent-account filter (SPEC §3.6) to drop its messages.
func SupervisorAgentID(shopID string) string { return shopID + "-a00" }

// TestBuyerID is the shop's own test account (b0), used by the staff for
// about 1 % of buyer sessions. List it in the buyer-account filter (SPEC
// §3.6) to drop its sessions.
func TestBuyerID(shopID string) string { return shopID + "-b0" }

// shopNumber parses "shop-0042" into 42, or returns 0.
func shopNumber(id string) int {
	const prefix = "shop-"
	if len(id) < len(prefix)+4 || id[:len(prefix)] != prefix {
		return 0
	}
	n := 0
	for _, ch := range id[len(prefix):] {
		if ch < '0' || ch > '9' {
			return 0
		}
		n = n*10 + int(ch-'0')
	}
	if ShopID(n) != id {
		return 0
	}
	return n
}
