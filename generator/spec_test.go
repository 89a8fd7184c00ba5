package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// This file checks records against SPEC §1 with encoding/json, independently
// of the generator's encoder and of the pipeline's decoder.

// specEvent is one record parsed by the reference checker.
type specEvent struct {
	Topic   string
	Fields  map[string]any
	EventID string
	ShopID  string
	TS      int64
}

func (e *specEvent) str(field string) string { s, _ := e.Fields[field].(string); return s }

func (e *specEvent) has(field string) bool { _, ok := e.Fields[field]; return ok }

type fieldKind int

const (
	fString fieldKind = iota
	fInt
	fBool
)

// specFields lists every field a topic may carry and its JSON type.
var specFields = map[string]map[string]fieldKind{
	"cs.sessions": {"type": fString, "session_id": fString, "buyer_id": fString, "origin": fString,
		"channel": fString, "task_id": fString, "robot_id": fString, "intent": fString},
	"cs.transfers": {"type": fString, "session_id": fString, "group_id": fString, "agent_id": fString,
		"from_agent_id": fString},
	"cs.messages": {"session_id": fString, "sender": fString, "agent_id": fString,
		"content_type": fString, "text": fString, "is_ad": fBool},
	"cs.evaluations": {"session_id": fString, "agent_id": fString, "score": fInt},
	"cs.orders":      {"type": fString, "order_id": fString, "buyer_id": fString, "amount": fInt, "stage": fString},
	"cs.outreach":    {"type": fString, "buyer_id": fString, "agent_id": fString, "via": fString, "session_id": fString},
}

// Plausible event times: 2020-01-01 .. 2100-01-01.
const minTS, maxTS = 1577836800000, 4102444800000

// checkSpec parses a record and checks it against SPEC §1: JSON object,
// UTF-8, known fields of the right types, required fields, enums, ranges,
// key = shop_id.
func checkSpec(rec *Record) (*specEvent, error) {
	if !utf8.Valid(rec.Value) {
		return nil, fmt.Errorf("not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Value))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	allowed, ok := specFields[rec.Topic]
	if !ok {
		return nil, fmt.Errorf("unknown topic %q", rec.Topic)
	}
	ev := &specEvent{Topic: rec.Topic, Fields: fields}
	for name, v := range fields {
		k, known := allowed[name]
		switch name {
		case "event_id", "shop_id":
			k, known = fString, true
		case "ts":
			k, known = fInt, true
		}
		if !known {
			return nil, fmt.Errorf("field %q not in the contract", name)
		}
		if err := checkType(name, v, k); err != nil {
			return nil, err
		}
	}
	for _, req := range []string{"event_id", "shop_id", "ts"} {
		if !ev.has(req) {
			return nil, fmt.Errorf("missing %s", req)
		}
	}
	ev.EventID, ev.ShopID = ev.str("event_id"), ev.str("shop_id")
	ev.TS, _ = strconv.ParseInt(string(fields["ts"].(json.Number)), 10, 64)
	if ev.TS < minTS || ev.TS >= maxTS {
		return nil, fmt.Errorf("ts %d out of range", ev.TS)
	}
	if string(rec.Key) != ev.ShopID {
		return nil, fmt.Errorf("key %q is not shop_id %q", rec.Key, ev.ShopID)
	}
	if rec.TS != ev.TS {
		return nil, fmt.Errorf("record TS %d is not ts %d", rec.TS, ev.TS)
	}
	return ev, checkTopicRules(ev)
}

func checkType(name string, v any, k fieldKind) error {
	switch k {
	case fString:
		if s, ok := v.(string); !ok || s == "" {
			return fmt.Errorf("field %q: want a non-empty string, got %v", name, v)
		}
	case fInt:
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("field %q: want an integer, got %v", name, v)
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return fmt.Errorf("field %q: want an integer, got %v", name, v)
		}
	case fBool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("field %q: want a bool, got %v", name, v)
		}
	}
	return nil
}

func oneOf(s string, values ...string) bool {
	for _, v := range values {
		if s == v {
			return true
		}
	}
	return false
}

func require(ev *specEvent, fields ...string) error {
	for _, f := range fields {
		if !ev.has(f) {
			return fmt.Errorf("%s: missing %s", ev.Topic, f)
		}
	}
	return nil
}

func checkTopicRules(ev *specEvent) error {
	typ := ev.str("type")
	switch ev.Topic {
	case "cs.sessions":
		if !oneOf(typ, "started", "ended") {
			return fmt.Errorf("sessions: unknown type %q", typ)
		}
		if typ == "started" {
			if err := require(ev, "session_id", "buyer_id", "origin"); err != nil {
				return err
			}
			if !oneOf(ev.str("origin"), "buyer", "proactive", "robot_outbound") {
				return fmt.Errorf("sessions: unknown origin %q", ev.str("origin"))
			}
			if (ev.str("origin") == "robot_outbound") != ev.has("task_id") || ev.has("task_id") != ev.has("robot_id") {
				return fmt.Errorf("sessions: task_id/robot_id on a non-robot session or missing")
			}
		}
		if ev.has("intent") && !oneOf(ev.str("intent"), "A", "B", "C", "D", "E", "F") {
			return fmt.Errorf("sessions: intent %q", ev.str("intent"))
		}
		return require(ev, "session_id")
	case "cs.transfers":
		if !oneOf(typ, "queued", "assigned", "abandoned") {
			return fmt.Errorf("transfers: unknown type %q", typ)
		}
		if typ == "assigned" {
			if err := require(ev, "agent_id"); err != nil {
				return err
			}
		} else if ev.has("agent_id") || ev.has("from_agent_id") {
			return fmt.Errorf("transfers: agent on %s", typ)
		}
		return require(ev, "session_id")
	case "cs.messages":
		s := ev.str("sender")
		if !oneOf(s, "buyer", "agent", "robot", "system") {
			return fmt.Errorf("messages: unknown sender %q", s)
		}
		if (s == "agent") != ev.has("agent_id") {
			return fmt.Errorf("messages: agent_id with sender %q", s)
		}
		if ev.has("is_ad") && s != "agent" {
			return fmt.Errorf("messages: advert from %q", s)
		}
		return require(ev, "session_id")
	case "cs.evaluations":
		n, _ := strconv.Atoi(string(ev.Fields["score"].(json.Number)))
		if n < 1 || n > 5 {
			return fmt.Errorf("evaluations: score %d", n)
		}
		return require(ev, "session_id")
	case "cs.orders":
		if !oneOf(typ, "created", "paid") {
			return fmt.Errorf("orders: unknown type %q", typ)
		}
		if err := require(ev, "order_id", "buyer_id", "amount"); err != nil {
			return err
		}
		if n, _ := strconv.ParseInt(string(ev.Fields["amount"].(json.Number)), 10, 64); n <= 0 {
			return fmt.Errorf("orders: amount %d", n)
		}
		if ev.has("stage") && (typ != "paid" || !oneOf(ev.str("stage"), "deposit", "final")) {
			return fmt.Errorf("orders: stage %q on %s", ev.str("stage"), typ)
		}
	case "cs.outreach":
		return checkOutreach(ev, typ)
	}
	return nil
}

// checkOutreach: SPEC §1 cs.outreach — agent_id exactly on the
// relationship types, via only on accepted, session_id on read.
func checkOutreach(ev *specEvent, typ string) error {
	if !oneOf(typ, "invited", "accepted", "rejected", "unsubscribed", "read", "visited") {
		return fmt.Errorf("outreach: unknown type %q", typ)
	}
	if err := require(ev, "buyer_id"); err != nil {
		return err
	}
	if oneOf(typ, "invited", "accepted", "rejected", "unsubscribed") != ev.has("agent_id") {
		return fmt.Errorf("outreach: agent_id on %s", typ)
	}
	if ev.has("via") && (typ != "accepted" || !oneOf(ev.str("via"), "manual", "auto")) {
		return fmt.Errorf("outreach: via %q on %s", ev.str("via"), typ)
	}
	if (typ == "read") != ev.has("session_id") {
		return fmt.Errorf("outreach: session_id on %s", typ)
	}
	return nil
}
