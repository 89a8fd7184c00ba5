package metrics

import (
	"testing"

	"github.com/cspulse/cspulse/schemas"
)

// What the external test package (wholepath_test.go, package
// operators_test) needs of the scenario harness. It cannot live in the
// external package's reach otherwise: pipeline imports operators, so a test
// that runs the pipeline must be external, and this file must not import
// pipeline.

// ScenarioSettings is a scenario's settings.json.
type ScenarioSettings = scenarioSettings

// Scenario is one scenario variant (scenarioVariants).
type Scenario = scenario

// RowSet keeps the last version of every row by key (newRowSet).
type RowSet = rowSet

// ScenarioVariants lists every variant of every scenario, in name order.
func ScenarioVariants(t testing.TB) []*Scenario {
	var all []*Scenario
	for _, dir := range scenarioDirs(t) {
		all = append(all, scenarioVariants(t, dir)...)
	}
	return all
}

// Name is the variant's name: the directory, plus "@rule" for
// expected.<rule>.json.
func (sc *scenario) Name() string { return sc.name }

// Settings returns settings.json as loaded (DefaultZone filled in).
func (sc *scenario) Settings() ScenarioSettings { return sc.settings }

// HasDirectives reports whether a step is an "advance" line or expects a
// late refusal: such scenarios depend on the exact feed order.
func (sc *scenario) HasDirectives() bool {
	for _, st := range sc.steps {
		if st.event.Topic == schemas.TopicInvalid || st.late {
			return true
		}
	}
	return false
}

// HasAdvance reports whether a step is an "advance" line, which only the
// in-process harness can follow.
func (sc *scenario) HasAdvance() bool {
	for _, st := range sc.steps {
		if st.event.Topic == schemas.TopicInvalid {
			return true
		}
	}
	return false
}

// LateEvents returns the events that say "expect": "late", in file order.
func (sc *scenario) LateEvents() []schemas.Event {
	var evs []schemas.Event
	for _, st := range sc.steps {
		if st.late {
			evs = append(evs, st.event)
		}
	}
	return evs
}

// Events returns the scenario's events in file order.
func (sc *scenario) Events() []schemas.Event {
	var evs []schemas.Event
	for _, st := range sc.steps {
		if st.event.Topic != schemas.TopicInvalid {
			evs = append(evs, st.event)
		}
	}
	return evs
}

// NewRowSet returns an empty row set keyed in the scenario's zones.
func (sc *scenario) NewRowSet() *RowSet { return newRowSet(sc.zones) }

// Diff compares the final rows of got with the expected rows.
func (sc *scenario) Diff(got *RowSet) []string { return sc.diff(got.final()) }

// WithoutTopic is the scenario without the events of topic.
func (sc *scenario) WithoutTopic(topic schemas.Topic) *Scenario {
	c := *sc
	c.steps = nil
	for _, st := range sc.steps {
		if st.event.Topic != topic {
			c.steps = append(c.steps, st)
		}
	}
	return &c
}
