package metrics_test

import (
	"testing"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/metrics"
)

// TestDefaultSettingsAreTheConfigs: the tests' DefaultSettings are the
// defaults of config/defaults.yaml, where defaults live.
func TestDefaultSettingsAreTheConfigs(t *testing.T) {
	d := config.Defaults()
	start, err := config.ParseClock(d.Metrics.WindowStart)
	if err != nil {
		t.Fatal(err)
	}
	end, err := config.ParseClock(d.Metrics.WindowEnd)
	if err != nil {
		t.Fatal(err)
	}
	s := metrics.DefaultSettings(nil)
	got := []any{s.AllowedLateness, s.SessionTimeout, s.RatingWindow, s.WindowStartMin, s.WindowEndMin,
		s.ReplyWithin, s.SatisfiedMinScore, string(s.Attribution.Rule), s.Attribution.ValidDays, s.Attribution.PayWindow}
	want := []any{d.Time.AllowedLateness, d.Time.SessionTimeout, d.Time.RatingWindow, start, end,
		d.Metrics.ReplyWithin, d.Metrics.SatisfiedMinScore, d.Metrics.AttributionRule, d.Metrics.InquiryValidDays, d.Metrics.OrderPayWindow}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: DefaultSettings has %v, config/defaults.yaml %v", i, got[i], want[i])
		}
	}
}
