package metrics

import (
	"errors"
	"fmt"
	"time"

	"github.com/cspulse/cspulse/eventtime"
)

// Settings configure an Engine. Every duration is used at millisecond
// resolution.
type Settings struct {
	// Zones gives each shop its time zone (SPEC §2). The engine clones it,
	// because a Zone caches and belongs to one goroutine.
	Zones *eventtime.ZoneSet

	// AllowedLateness: how far behind the watermark an event may be and
	// still update the state it needs (SPEC §2).
	AllowedLateness time.Duration
	// SessionTimeout closes a session without `ended` when the watermark
	// passes its last activity + SessionTimeout (a gap of exactly the
	// timeout keeps it open).
	SessionTimeout time.Duration
	// RatingWindow: how long after its close a session still takes an
	// evaluation.
	RatingWindow time.Duration

	// WindowStartMin and WindowEndMin bound the daily window of the *_window
	// figures in local minutes after midnight, half-open: 480, 1380 is
	// 08:00 ≤ t < 23:00.
	WindowStartMin, WindowEndMin int
	// ReplyWithin: a buyer message is replied within when response_ms is at
	// most this (3 min: 180000 in, 180001 out).
	ReplyWithin time.Duration
	// SatisfiedMinScore: a rating with score ≥ this is satisfied (4).
	SatisfiedMinScore int

	Filters Filters

	// Sessions, when set, hears about every closed session too (see
	// SessionListener), after the engine's own attribution (§3.4) and
	// robot (§3.5) operators, which always do.
	Sessions SessionListener

	Attribution Attribution

	// Alerts are the threshold rules of SPEC §4.2; none: no alerts.
	Alerts []AlertRule
	// Rankings: write cs_agent_rankings (SPEC §4.3).
	Rankings bool
}

// Attribution configures SPEC §3.4's sales attribution. Every field is
// required: the defaults and the user-facing ranges are the config
// package's (metrics.attribution_rule, metrics.inquiry_valid_days,
// metrics.order_pay_window).
type Attribution struct {
	// Rule is the default rule (业绩判定规则).
	Rule AttributionRule
	// ShopRules override Rule per shop id.
	ShopRules map[string]AttributionRule
	// ValidDays: an inquiry on local day D is valid on days D … D+N−1
	// (N ≥ 1).
	ValidDays int
	// PayWindow bounds how long a created order waits for its payment
	// (state for created-but-never-paid orders); > 0.
	PayWindow time.Duration
}

// AttributionRule is 业绩判定规则: which agent a paid order is credited to.
type AttributionRule string

// The rules of SPEC §3.4.
const (
	RuleOrder      AttributionRule = "order"       // 下单判定: the order agent
	RulePay        AttributionRule = "pay"         // 付款判定: the pay agent
	RuleOrderFirst AttributionRule = "order_first" // 下单优先判定: the order agent, else the pay agent
)

func (r AttributionRule) valid() bool {
	switch r {
	case RuleOrder, RulePay, RuleOrderFirst:
		return true
	}
	return false
}

func (a *Attribution) validate() error {
	if !a.Rule.valid() {
		return fmt.Errorf("metrics: attribution rule %q is not order, pay or order_first", a.Rule)
	}
	for shop, r := range a.ShopRules {
		if !r.valid() {
			return fmt.Errorf("metrics: attribution rule %q of shop %q is not order, pay or order_first", r, shop)
		}
	}
	switch {
	case a.ValidDays < 1:
		return fmt.Errorf("metrics: inquiry valid days %d < 1", a.ValidDays)
	case a.PayWindow <= 0:
		return fmt.Errorf("metrics: pay window %v ≤ 0", a.PayWindow)
	}
	return nil
}

// Filters are the reception filters of SPEC §3.6, each switchable.
type Filters struct {
	// Adverts: messages flagged is_ad do not exist for the engine.
	Adverts bool
	// BuyerIDs: sessions of these buyers are dropped entirely.
	BuyerIDs []string
	// AgentIDs: messages sent by these agents do not exist for the engine.
	AgentIDs []string
	// AgentSingleSentence: an assignment in which the agent sent exactly one
	// message and the buyer none after it is not a reception.
	AgentSingleSentence bool
	// Monologue: a session whose human phase has agent messages and no
	// buyer message has no reception.
	Monologue bool
}

// Validate reports the first setting that the engine cannot work with: a
// programming error (NewEngine panics), since the config package owns the
// defaults and the user-facing ranges and names their keys.
func (s *Settings) Validate() error {
	switch {
	case s.Zones == nil:
		return errors.New("metrics: Settings.Zones is nil")
	case s.AllowedLateness < 0:
		return fmt.Errorf("metrics: AllowedLateness %v < 0", s.AllowedLateness)
	case s.SessionTimeout < time.Millisecond:
		return fmt.Errorf("metrics: SessionTimeout %v < 1ms", s.SessionTimeout)
	case s.RatingWindow < 0:
		return fmt.Errorf("metrics: RatingWindow %v < 0", s.RatingWindow)
	case s.WindowStartMin < 0 || s.WindowEndMin > 24*60 || s.WindowStartMin >= s.WindowEndMin:
		return fmt.Errorf("metrics: daily window [%d, %d) minutes is not within a day", s.WindowStartMin, s.WindowEndMin)
	case s.ReplyWithin <= 0:
		return fmt.Errorf("metrics: ReplyWithin %v ≤ 0", s.ReplyWithin)
	case s.SatisfiedMinScore < 1 || s.SatisfiedMinScore > 5:
		return fmt.Errorf("metrics: SatisfiedMinScore %d not in 1..5", s.SatisfiedMinScore)
	}
	for i := range s.Alerts {
		if err := s.Alerts[i].Validate(); err != nil {
			return fmt.Errorf("metrics: alert rule %d: %w", i, err)
		}
	}
	return s.Attribution.validate()
}

// limits are the settings in the form the hot path uses.
type limits struct {
	lateness, timeout, ratingWindow, replyWithin int64 // ms
	windowFrom, windowTo                         int
	satisfied                                    int8
	singleSentence, monologue, adverts           bool
	buyers, agents                               map[string]struct{}
}

// nearTimers is how far ahead of the watermark a wake-up counts as near
// (timerQueue): every phase but the summary's rating window ends within it.
func (l *limits) nearTimers() int64 { return l.timeout + l.lateness }

func newLimits(s *Settings) limits {
	return limits{
		lateness:       s.AllowedLateness.Milliseconds(),
		timeout:        s.SessionTimeout.Milliseconds(),
		ratingWindow:   s.RatingWindow.Milliseconds(),
		replyWithin:    s.ReplyWithin.Milliseconds(),
		windowFrom:     s.WindowStartMin,
		windowTo:       s.WindowEndMin,
		satisfied:      int8(s.SatisfiedMinScore),
		singleSentence: s.Filters.AgentSingleSentence,
		monologue:      s.Filters.Monologue,
		adverts:        s.Filters.Adverts,
		buyers:         stringSet(s.Filters.BuyerIDs),
		agents:         stringSet(s.Filters.AgentIDs),
	}
}

func stringSet(ids []string) map[string]struct{} {
	set := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	return set
}
