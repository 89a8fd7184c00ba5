package schemas

import (
	"bytes"
	"encoding/json"
	"time"
)

// Alert is one record of the alerts topic (SPEC §4.2): a (rule, scope)
// crossed its threshold (state breach) or came back (recovered), as
// evaluated when the shop's watermark passed WindowEnd. Its JSON is the
// record value, keyed by ShopID; jsonschema/cs.alerts.schema.json
// documents it for consumers.
type Alert struct {
	AlertID     string    `json:"alert_id"`
	ShopID      string    `json:"shop_id"`
	Rule        string    `json:"rule"`
	Scope       string    `json:"scope"`    // shop | group | agent
	ScopeID     string    `json:"scope_id"` // the shop, group or agent id
	GroupID     string    `json:"group_id"` // the group, where known; "" otherwise
	Metric      string    `json:"metric"`
	Window      string    `json:"window"` // rolling_<N>d | week
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Value       float64   `json:"value"`
	Numerator   int64     `json:"numerator"`
	Denominator int64     `json:"denominator"`
	Threshold   float64   `json:"threshold"`
	Direction   string    `json:"direction"` // the healthy side: >=, >, <=, <
	State       string    `json:"state"`     // breach | recovered
	EvaluatedAt time.Time `json:"evaluated_at"`
}

// Alert states.
const (
	AlertBreach    = "breach"
	AlertRecovered = "recovered"
)

// MarshalAlert is the record value of a; times are RFC 3339 in UTC.
func MarshalAlert(a *Alert) []byte {
	c := *a
	c.WindowStart, c.WindowEnd, c.EvaluatedAt = c.WindowStart.UTC(), c.WindowEnd.UTC(), c.EvaluatedAt.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // ">=" stays readable for people reading the topic with kcat
	if err := enc.Encode(&c); err != nil {
		panic("schemas: marshal alert: " + err.Error()) // only plain fields: cannot fail
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// AlertSchema returns the JSON Schema of the alerts topic's records. The
// caller owns the returned slice.
func AlertSchema() []byte {
	b, err := schemaFS.ReadFile("jsonschema/cs.alerts.schema.json")
	if err != nil {
		panic("schemas: embedded schema missing: " + err.Error())
	}
	return b
}
