package report

import (
	"strings"
	"testing"

	"github.com/cspulse/cspulse/config"
)

// TestConfigKeysNamed: a bad report.* or export.* value is refused with
// an error naming its key; the defaults' kind of value passes.
func TestConfigKeysNamed(t *testing.T) {
	good := []string{"consult_sessions", "qa_ratio"}
	if err := CheckSchemes(good, map[string][]string{"mine": {"robot_calls"}}); err != nil {
		t.Errorf("good schemes: %v", err)
	}
	if err := CheckExportDays(MaxExportDays); err != nil {
		t.Errorf("%d days: %v", MaxExportDays, err)
	}
	for _, c := range []struct {
		name    string
		err     error
		wantKey string
	}{
		{"overview metric", CheckSchemes([]string{"consult_sessions", "speed"}, nil), "report.overview"},
		{"empty overview", CheckSchemes(nil, nil), "report.overview"},
		{"scheme metric twice", CheckSchemes(good, map[string][]string{"mine": {"qa_ratio", "qa_ratio"}}), "report.schemes.mine"},
		{"scheme unknown metric", CheckSchemes(good, map[string][]string{"agents": {"nope"}}), "report.schemes.agents"},
		{"empty scheme", CheckSchemes(good, map[string][]string{"mine": {}}), "report.schemes.mine"},
		{"scheme named overview", CheckSchemes(good, map[string][]string{"overview": good}), "report.schemes.overview"},
		{"export days 0", CheckExportDays(0), "export.default_days"},
		{"export days 32", CheckExportDays(MaxExportDays + 1), "export.default_days"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), "config key "+c.wantKey+":") {
			t.Errorf("%s: %v, want an error naming %s", c.name, c.err, c.wantKey)
		}
	}
}

// TestDefaultSchemesValid: config/defaults.yaml's report.* and export.*
// pass.
func TestDefaultSchemesValid(t *testing.T) {
	d := config.Defaults()
	if err := CheckSchemes(d.Report.Overview, d.Report.Schemes); err != nil {
		t.Error(err)
	}
	if err := CheckExportDays(d.Export.DefaultDays); err != nil {
		t.Error(err)
	}
}
