package pipeline

import (
	"testing"
	"time"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/pipeline/operators"
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
	if a.Rule != operators.RulePay || a.ShopRules["shop-0002"] != operators.RuleOrder || a.ValidDays != 3 || a.PayWindow != 5*time.Hour {
		t.Errorf("%+v", a)
	}
	factory, err := NewEngineFactory(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	factory(0) // NewEngine validates the settings
	d := config.Defaults()
	if s, _ := operatorSettings(&d); s.Attribution.Rule != operators.RuleOrderFirst || s.Attribution.ValidDays != 2 || s.Attribution.PayWindow != 72*time.Hour {
		t.Errorf("defaults: %+v", s.Attribution)
	}
}
