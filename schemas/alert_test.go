package schemas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestMarshalAlert: the record carries every documented field, times in
// RFC 3339 UTC, and directions unescaped.
func TestMarshalAlert(t *testing.T) {
	at := time.Date(2026, 11, 2, 11, 0, 0, 0, time.FixedZone("CST", 8*3600))
	a := Alert{AlertID: "0123456789abcdef0123456789abcdef", ShopID: "s1", Rule: "r", Scope: "shop", ScopeID: "s1",
		Metric: "avg_response_s", Window: "rolling_7d", WindowStart: at.Add(-7 * 24 * time.Hour), WindowEnd: at,
		Value: 146.5, Numerator: 293000, Denominator: 2000, Threshold: 120, Direction: "<=", State: AlertBreach, EvaluatedAt: at}
	b := MarshalAlert(&a)
	for _, want := range []string{`"direction":"<="`, `"evaluated_at":"2026-11-02T03:00:00Z"`, `"window_start":"2026-10-26T03:00:00Z"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var schema struct {
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(AlertSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	if len(fields) != len(schema.Required) {
		t.Errorf("record has %d fields, the schema requires %d", len(fields), len(schema.Required))
	}
	for _, f := range schema.Required {
		if _, ok := fields[f]; !ok {
			t.Errorf("record lacks %s, which the schema requires", f)
		}
	}
}
