package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/metrics"
)

// TestAttributionSettingsWired: the metrics.* attribution keys reach the
// operators' settings.
func TestAttributionSettingsWired(t *testing.T) {
	cfg := config.Defaults()
	cfg.Metrics.AttributionRule = "pay"
	cfg.Metrics.ShopAttributionRules = map[string]string{"shop-0002": "order"}
	cfg.Metrics.InquiryValidDays = 3
	cfg.Metrics.OrderPayWindow = 5 * time.Hour
	s, err := operatorSettings(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := s.Attribution
	if a.Rule != metrics.RulePay || a.ShopRules["shop-0002"] != metrics.RuleOrder || a.ValidDays != 3 || a.PayWindow != 5*time.Hour {
		t.Errorf("%+v", a)
	}
	engines, err := NewEngines(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	engines.New(0) // NewEngine validates the settings
	d := config.Defaults()
	if s, _ := operatorSettings(&d); s.Attribution.Rule != metrics.RuleOrderFirst || s.Attribution.ValidDays != 2 || s.Attribution.PayWindow != 72*time.Hour {
		t.Errorf("defaults: %+v", s.Attribution)
	}
}

// TestClickHouseWiring: the clickhouse.* keys, defaults included, reach
// the writer's config, which the writer accepts; clickhouse.tls reaches
// the driver's.
func TestClickHouseWiring(t *testing.T) {
	c := config.Defaults().ClickHouse
	sc, err := ClickHouseConfig(c)
	if err != nil || sc.TLS != nil {
		t.Fatalf("TLS off: %v, %v", sc.TLS, err)
	}
	if strings.Join(sc.Addr, ",") != strings.Join(c.Addr, ",") || sc.Database != c.Database || sc.User != c.User ||
		sc.DialTimeout != c.DialTimeout || sc.MaxBatchRows != c.BatchRows || sc.Retry.MaxElapsed != c.RetryMaxElapsed {
		t.Errorf("defaults: %+v from %+v", sc, c)
	}
	if err := sc.Validate(); err != nil {
		t.Errorf("the defaults do not make a valid writer config: %v", err)
	}
	c.TLS = config.TLS{Enabled: true, InsecureSkipVerify: true}
	c.Password = "pw"
	sc, err = ClickHouseConfig(c)
	if err != nil || sc.TLS == nil || !sc.TLS.InsecureSkipVerify || sc.Password != "pw" {
		t.Fatalf("TLS on: %+v, %v", sc.TLS, err)
	}
	c.TLS.CAFile = "/nonexistent/ca.pem"
	if _, err := ClickHouseConfig(c); err == nil || !strings.Contains(err.Error(), "clickhouse.tls.ca_file") {
		t.Errorf("missing CA: %v, want an error naming clickhouse.tls.ca_file", err)
	}
}

// TestAlertRulesWired: the default rules reach the engine as the
// platforms' thresholds, and a wrong rule is refused naming it and the
// field.
func TestAlertRulesWired(t *testing.T) {
	cfg := config.Defaults()
	s, err := operatorSettings(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Alerts) != 5 || !s.Rankings {
		t.Fatalf("defaults: %d rules, rankings %v; want the 5 platform thresholds and rankings", len(s.Alerts), s.Rankings)
	}
	if r := s.Alerts[0]; r.Metric != "reply_3min_rate" || r.Threshold != 0.9 || r.Direction != ">=" || r.WindowDays != 7 || r.MinSample != 20 {
		t.Errorf("first default rule %+v", r)
	}
	good := config.AlertRule{Name: "r", Metric: "avg_wait_s", Scope: "agent", Window: "week", Threshold: 600, Direction: "<", MinSample: 5}
	for _, tc := range []struct {
		change func(r *config.AlertRule)
		want   string
	}{
		{func(r *config.AlertRule) { r.Metric = "speed" }, `alerts.rules[1] (r): metric "speed"`},
		{func(r *config.AlertRule) { r.Direction = "=<" }, `alerts.rules[1] (r): direction "=<"`},
		{func(r *config.AlertRule) { r.Window = "month" }, `alerts.rules[1] (r): window "month"`},
		{func(r *config.AlertRule) { r.Days = 3 }, `alerts.rules[1] (r): days 3`},
		{func(r *config.AlertRule) { r.Window, r.Days = "rolling", 40 }, `alerts.rules[1] (r): window days 40`},
		{func(r *config.AlertRule) { r.MinSample = 0 }, `alerts.rules[1] (r): min_sample 0`},
		{func(r *config.AlertRule) { r.Scope = "team" }, `alerts.rules[1] (r): scope "team"`},
		{func(r *config.AlertRule) { r.Name = "shop_avg_wait" }, `alerts.rules[1] (shop_avg_wait): name: another rule has it`},
	} {
		bad := good
		tc.change(&bad)
		cfg := config.Defaults()
		cfg.Alerts.Rules = []config.AlertRule{cfg.Alerts.Rules[3], bad}
		if _, err := operatorSettings(&cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", bad, err, tc.want)
		}
	}
}
