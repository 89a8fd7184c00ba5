package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/metrics"
	"github.com/cspulse/cspulse/pipeline"
	"github.com/cspulse/cspulse/schemas"
)

// TestScenariosWholePath runs the metric-engine scenarios through the whole
// path: each scenario's events are produced to a fresh embedded
// Kafka-protocol broker, the real runner (NewRunner with the real engine)
// consumes them until idle and writes the real local ClickHouse, and the
// tables read back with FINAL must give the scenario's expected rows
// (the same comparison as TestScenarios).
//
// Through Kafka the arrival order across topics is not the file order. The
// engine is order-independent within the allowed lateness
// (TestScenarioOrderIndependence), so the results must match; scenarios
// that depend on the exact feed order are left out (see eligible).
func TestScenariosWholePath(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse and the embedded broker")
	}
	chAddr := testenv.ClickHouseAddr(t)
	conn := testenv.Conn(t, chAddr, "default") // shared; queries name the database
	for _, sc := range metrics.ScenarioVariants(t) {
		if why := ineligible(sc); why != "" {
			t.Logf("%s: not run through the whole path: %s", sc.Name(), why)
			continue
		}
		t.Run(sc.Name(), func(t *testing.T) {
			cfg := scenarioConfig(t, sc)
			runWholePath(t, sc, cfg, chAddr)
			rows := readBack(t, conn, cfg.ClickHouse.Database, sc)
			for _, d := range sc.Diff(rows) {
				t.Error(d)
			}
		})
	}
}

// ineligible says why a scenario cannot run through the whole path, or "".
func ineligible(sc *metrics.Scenario) string {
	s := sc.Settings()
	switch {
	case sc.HasAdvance():
		// "advance" lines need the exact feed order and watermark of the
		// in-process harness.
		return "has advance lines"
	case s.NoAutoWatermark:
		return "sets no_auto_watermark"
	}
	for _, ev := range sc.LateEvents() {
		// An event late by the watermark is late only in the harness's
		// feed order. An evaluation more than rating_window after its
		// session's close (SPEC §3.3) is late whatever the order: the
		// task holds evaluations until its watermark is within
		// rating_window of them (pipeline/heldevals.go). Scenarios without
		// advance lines expect only such evaluations to be late.
		if ev.Topic != schemas.TopicEvaluations {
			return "expects a late " + ev.Topic.String() + " event (late only in the harness's feed order)"
		}
	}
	return ""
}

// scenarioConfig maps settings.json onto the pipeline's configuration,
// starting from config.Defaults() with the harness settings of
// pipeline/e2e_test.go.
func scenarioConfig(t *testing.T, sc *metrics.Scenario) *config.Config {
	t.Helper()
	s := sc.Settings()
	cfg := config.Defaults()
	cfg.Time.DefaultZone = s.DefaultZone
	cfg.Time.ShopZones = s.Zones
	dur := func(v string, into *time.Duration) {
		if v == "" {
			return // the scenario default is the config default
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		*into = d
	}
	dur(s.MaxOutOfOrder, &cfg.Time.MaxOutOfOrder)
	dur(s.AllowedLateness, &cfg.Time.AllowedLateness)
	dur(s.SessionTimeout, &cfg.Time.SessionTimeout)
	dur(s.RatingWindow, &cfg.Time.RatingWindow)
	dur(s.OrderPayWindow, &cfg.Metrics.OrderPayWindow)
	// The scenarios define the hourly, daily and session tables; alerts
	// and rankings have scenarios of their own (alerts_test.go,
	// rankings_test.go), and the engine has them off in the harness.
	cfg.Alerts.Rules, cfg.Rankings.Enabled = nil, false
	// The scenarios' filters are all off unless settings.json turns them
	// on; the config's default turns some on: replace them whole.
	cfg.Filters = config.Filters{
		Adverts: s.Filters.Adverts, BuyerIDs: s.Filters.BuyerIDs, AgentIDs: s.Filters.AgentIDs,
		AgentSingleSentence: s.Filters.AgentSingleSentence, Monologue: s.Filters.Monologue,
	}
	if s.AttributionRule != "" {
		cfg.Metrics.AttributionRule = string(s.AttributionRule)
	} else {
		cfg.Metrics.AttributionRule = string(metrics.RuleOrderFirst)
	}
	cfg.Metrics.ShopAttributionRules = map[string]string{}
	for shop, r := range s.ShopAttributionRules {
		cfg.Metrics.ShopAttributionRules[shop] = string(r)
	}
	if s.InquiryValidDays != 0 {
		cfg.Metrics.InquiryValidDays = s.InquiryValidDays
	}
	return &cfg
}

// runWholePath produces the scenario's events to a fresh broker and runs
// the pipeline into a fresh database until the input is idle.
func runWholePath(t *testing.T, sc *metrics.Scenario, cfg *config.Config, chAddr string) {
	t.Helper()
	b := pipetest.Start(t, cfg)

	topics := cfg.Topics.Inputs() // in schemas.Topics order; cs.outreach is optional, last
	topicName := map[schemas.Topic]string{}
	for i, tp := range schemas.Topics[:len(topics)] {
		topicName[tp] = topics[i]
	}
	events := sc.Events()
	recs := make([]*kgo.Record, 0, len(events))
	for i := range events {
		ev := &events[i]
		name, ok := topicName[ev.Topic]
		if !ok {
			t.Fatalf("event %s: no topic for %v", ev.EventID, ev.Topic)
		}
		recs = append(recs, &kgo.Record{Topic: name, Key: []byte(string(ev.ShopID)), Value: schemas.AppendJSON(nil, ev)})
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = cl.ProduceSync(ctx, recs...).FirstErr()
	cl.Close()
	if err != nil {
		t.Fatalf("produce: %v", err)
	}

	sum := pipetest.Run(t, cfg)
	late := sc.LateEvents()
	if sum.DeadLetters != int64(len(late)) {
		t.Errorf("dead letters = %d, want %d (the events expected late)", sum.DeadLetters, len(late))
	}
	if sum.Events != int64(len(events)-len(late)) {
		t.Errorf("events applied = %d, want %d", sum.Events, len(events)-len(late))
	}
	if len(late) > 0 {
		checkLateDeadLetters(t, b.Addr(), cfg.Topics.DeadLetter, late)
	}
}

// checkLateDeadLetters reads the dead-letter topic as an outside consumer
// (read_committed) and wants exactly the late events there, each once,
// with reason late (SPEC §3.3: not ignored silently).
func checkLateDeadLetters(t *testing.T, addr, topic string, late []schemas.Event) {
	t.Helper()
	want := map[string]bool{}
	for _, ev := range late {
		want[string(ev.EventID)] = true
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := map[string]string{} // event id → reason
	for len(got) < len(want) && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			var reason string
			for _, h := range r.Headers {
				if h.Key == pipeline.HeaderReason {
					reason = string(h.Value)
				}
			}
			var v struct {
				EventID string `json:"event_id"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Errorf("dead letter %q: %v", r.Value, err)
				return
			}
			if _, dup := got[v.EventID]; dup {
				t.Errorf("dead letter of %s twice", v.EventID)
			}
			got[v.EventID] = reason
		})
	}
	for id := range want {
		if reason, ok := got[id]; !ok {
			t.Errorf("no dead letter of %s (expected late)", id)
		} else if reason != string(schemas.ReasonLate) {
			t.Errorf("dead letter of %s: reason %q, want %q", id, reason, schemas.ReasonLate)
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("dead letter of %s, which is not expected late", id)
		}
	}
}

// readBack reads every table the engine writes, with FINAL, into a row set
// of the scenario: each row as the Go values the engine emits (the driver's
// scan types match them: uint64, int64, uint8, uint32, string, []string,
// time.Time, here in UTC).
func readBack(t *testing.T, conn driver.Conn, db string, sc *metrics.Scenario) *metrics.RowSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	set := sc.NewRowSet()
	for _, table := range metrics.Tables {
		q := fmt.Sprintf("SELECT %s FROM %s.%s FINAL", strings.Join(table.Columns, ", "), db, table.Name)
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		types := rows.ColumnTypes()
		for rows.Next() {
			ptrs := make([]any, len(types))
			for i, ct := range types {
				ptrs[i] = reflect.New(ct.ScanType()).Interface()
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: scan: %v", table.Name, err)
			}
			row := make([]any, len(ptrs))
			for i, p := range ptrs {
				v := reflect.ValueOf(p).Elem().Interface()
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC()
				}
				row[i] = v
			}
			set.Add(table, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", table.Name, err)
		}
		rows.Close()
	}
	return set
}

// TestExclusiveWithoutOutreach runs the exclusive-customer scenario
// through the whole path with topics.outreach set empty (SPEC §1: the
// topic is optional): its other events are processed as usual, nothing
// fails, and cs_exclusive_daily stays empty.
func TestExclusiveWithoutOutreach(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse and the embedded broker")
	}
	chAddr := testenv.ClickHouseAddr(t)
	conn := testenv.Conn(t, chAddr, "default")
	var sc *metrics.Scenario
	for _, v := range metrics.ScenarioVariants(t) {
		if v.Name() == "exclusive_customers" {
			sc = v.WithoutTopic(schemas.TopicOutreach)
		}
	}
	if sc == nil {
		t.Fatal("no exclusive_customers scenario")
	}
	cfg := scenarioConfig(t, sc)
	cfg.Topics.Outreach = ""
	runWholePath(t, sc, cfg, chAddr)
	var n uint64
	q := fmt.Sprintf("SELECT count() FROM %s.cs_exclusive_daily FINAL", cfg.ClickHouse.Database)
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("cs_exclusive_daily holds %d rows without cs.outreach, want 0", n)
	}
}
