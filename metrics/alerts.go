package metrics

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/schemas"
)

// Alerts (SPEC §4.2). Every rule is evaluated per scope when the watermark
// passes the end of each local hour B of a shop: Advance stops at every
// such B (the engine stepped to exactly B, as a watermark that stopped
// there would have), drains the figures and evaluates the shop's rules
// over their windows ending at B. Each (rule, scope) is ok or in breach;
// only transitions are emitted. A shop's hours are evaluated from the end
// of the local hour of the task's earliest event; a bounded run's end
// (Advance to the end of time) evaluates up to the end of the hour of its
// latest event.
type alerts struct {
	e       *Engine
	rules   []alertRule
	windows []alertWindow // the distinct windows of the rules
	keep    int64         // ms of hourly figures the longest window needs
	shops   []*alertShop  // by shop id; nil until the shop is seen
	minTS   int64         // the earliest and latest event ts applied
	maxTS   int64
	out     []schemas.Alert     // emitted since the last flush
	taken   []schemas.Alert     // flushed, for takeAlerts
	changed changes[*alertShop] // since the last saveChanged
	metaChg bool
	// earliest is the least next hour end over the shops, when
	// earliestKnown: nextDue answers from it without walking the shops
	// until an evaluation or a new shop changes it.
	earliest      int64
	earliestKnown bool
	known         int // shop ids below this have their alertShop
}

type alertRule struct {
	AlertRule
	metric AlertMetric
	window int // index into alerts.windows
	ok     func(v, threshold float64) bool
	scope  uint8
}

// alertWindow is a window definition: rolling days, or the calendar week.
type alertWindow struct {
	days int
	week bool
}

func (w alertWindow) start(z *eventtime.Zone, end int64) int64 {
	if w.week {
		return z.WeekStart(end - 1)
	}
	return end - int64(w.days)*24*hourMs
}

// Scope kinds, in the order alerts of one evaluation are emitted.
const (
	scopeShopKind uint8 = iota
	scopeGroupKind
	scopeAgentKind
)

var scopeNames = [...]string{ScopeShop, ScopeGroup, ScopeAgent}

func scopeKind(name string) uint8 {
	switch name {
	case ScopeGroup:
		return scopeGroupKind
	case ScopeAgent:
		return scopeAgentKind
	}
	return scopeShopKind
}

type scopeKey struct {
	kind uint8
	id   uint32 // group or agent id; 0 for the shop
}

// alertShop is one shop's alert state: its running sums per scope and
// window, the scopes in breach, and where its evaluation stands.
type alertShop struct {
	shop        uint32
	next        int64 // the next hour end to evaluate; notDecided before the first
	evaluatedTo int64 // the last hour end evaluated; 0 before the first
	floor       int64 // hourly figures before this are forgotten; 0: none yet
	scopes      map[scopeKey][]figValues
	breach      map[breachKey]bool
	entryState
}

func (s *alertShop) gone() bool { return false }

type breachKey struct {
	rule  int
	scope scopeKey
}

const notDecided = math.MaxInt64

func newAlerts(e *Engine, rules []AlertRule) *alerts {
	a := &alerts{e: e, minTS: math.MaxInt64, maxTS: math.MinInt64}
	for _, r := range rules {
		m, _ := alertMetric(r.Metric)
		ok, _ := compare(r.Direction)
		w := alertWindow{days: r.WindowDays, week: r.Week}
		wi := slices.Index(a.windows, w)
		if wi < 0 {
			wi = len(a.windows)
			a.windows = append(a.windows, w)
		}
		span := int64(w.days) * 24 * hourMs
		if w.week {
			span = 7 * 24 * hourMs
		}
		a.keep = max(a.keep, span)
		a.rules = append(a.rules, alertRule{AlertRule: r, metric: m, window: wi, ok: ok, scope: scopeKind(r.Scope)})
	}
	return a
}

// seen notes an applied event's time: the span of the task's input.
func (a *alerts) seen(ts int64) {
	if ts < a.minTS {
		a.minTS, a.metaChg = ts, true
	}
	if ts > a.maxTS {
		a.maxTS, a.metaChg = ts, true
	}
}

// shopState returns shop's state, created on first use.
func (a *alerts) shopState(shop uint32) *alertShop {
	for int(shop) >= len(a.shops) {
		a.shops = append(a.shops, nil)
	}
	s := a.shops[shop]
	if s == nil {
		s = &alertShop{shop: shop, next: notDecided, scopes: make(map[scopeKey][]figValues), breach: make(map[breachKey]bool)}
		a.shops[shop] = s
		a.touch(s)
		a.earliestKnown = false
	}
	return s
}

func (a *alerts) touch(s *alertShop) { a.changed.note(a.e.ckpt.tracking, s) }

// nextDue returns the earliest hour end at or before watermark that some
// shop must be evaluated at; false when there is none. Advance asks once
// per watermark step, so between hour ends it answers from earliest
// instead of walking every shop.
func (a *alerts) nextDue(watermark int64) (int64, bool) {
	e := a.e
	for ; a.known < len(e.shopZones); a.known++ { // shops seen since the last call
		if a.known > 0 {
			a.shopState(uint32(a.known))
		}
	}
	if a.earliestKnown && watermark < a.earliest {
		return 0, false
	}
	best, found := int64(math.MaxInt64), false
	earliest, undecided := int64(math.MaxInt64), false
	for _, s := range a.shops {
		if s == nil {
			continue
		}
		z := e.shopZones[s.shop]
		if s.next == notDecided {
			if a.minTS >= watermark || a.minTS == math.MaxInt64 {
				undecided = true
				continue
			}
			s.next = z.HourEnd(a.minTS)
			s.floor = z.HourStart(a.minTS)
			a.touch(s)
		}
		earliest = min(earliest, s.next)
		if s.next > watermark || (watermark == math.MaxInt64 && s.next > z.HourEnd(a.maxTS)) {
			continue
		}
		if s.next < best {
			best, found = s.next, true
		}
	}
	a.earliest, a.earliestKnown = earliest, !undecided
	return best, found
}

// evaluateAt evaluates every shop whose next hour end is b.
// Shops go in the order of their ids' names: interned ids differ
// between a process and one restored from its checkpoint.
func (a *alerts) evaluateAt(b int64) {
	var due []*alertShop
	for _, s := range a.shops {
		if s != nil && s.next == b {
			due = append(due, s)
		}
	}
	slices.SortFunc(due, func(x, y *alertShop) int {
		return cmp.Compare(a.e.shopIDs.name(x.shop), a.e.shopIDs.name(y.shop))
	})
	for _, s := range due {
		a.evaluate(s, b)
		s.next = a.e.shopZones[s.shop].HourEnd(b)
		a.touch(s)
	}
	a.earliestKnown = false
}

// evaluate moves s's windows to end at b and evaluates its rules.
func (a *alerts) evaluate(s *alertShop, b int64) {
	z := a.e.shopZones[s.shop]
	for wi, w := range a.windows {
		start := w.start(z, b)
		if s.evaluatedTo == 0 || start >= s.evaluatedTo {
			for _, sums := range s.scopes {
				sums[wi] = figValues{}
			}
			a.addHours(s, wi, start, b, 1)
			continue
		}
		a.addHours(s, wi, s.evaluatedTo, b, 1)
		a.addHours(s, wi, w.start(z, s.evaluatedTo), start, -1)
	}
	s.evaluatedTo = b
	a.judge(s, z, b)
	a.forget(s, b)
}

// addHours adds (sign 1) or subtracts the figures of s's hours [from, to)
// to window wi's sums.
func (a *alerts) addHours(s *alertShop, wi int, from, to int64, sign int64) {
	for h := from; h < to; h += hourMs {
		for _, fc := range a.e.fig.hour(s.shop, h) {
			a.addScopes(s, wi, fc.key, &fc.v, sign)
		}
	}
}

// addScopes adds v to the shop's, the group's and the agent's sums of
// window wi.
func (a *alerts) addScopes(s *alertShop, wi int, k agentKey, v *figValues, sign int64) {
	for _, sk := range [...]scopeKey{{scopeShopKind, 0}, {scopeGroupKind, k.group}, {scopeAgentKind, k.agent}} {
		sums := s.scopes[sk]
		if sums == nil {
			sums = make([]figValues, len(a.windows))
			s.scopes[sk] = sums
		}
		sums[wi].add(v, sign)
	}
}

// figuresChanged adds a late change inside a window to its sums; a change
// at or after the last evaluated hour end is added when the window gets
// there.
func (a *alerts) figuresChanged(k agentKey, delta *figValues) {
	s := a.shopState(k.shop)
	if s.evaluatedTo == 0 || k.hour >= s.evaluatedTo {
		return
	}
	z := a.e.shopZones[s.shop]
	for wi, w := range a.windows {
		if k.hour >= w.start(z, s.evaluatedTo) {
			a.addScopes(s, wi, k, delta, 1)
		}
	}
}

// transition is one alert before it is built.
type transition struct {
	rule  int
	scope scopeKey
	name  string
	sums  figValues
}

// judge compares every scope's value with its rules' thresholds and emits
// the transitions, in rule order, then scope kind and id.
func (a *alerts) judge(s *alertShop, z *eventtime.Zone, b int64) {
	shopID := a.e.shopIDs.name(s.shop)
	var ts []transition
	for ri := range a.rules {
		r := &a.rules[ri]
		threshold, minSample, on := r.forShop(shopID)
		if !on {
			continue
		}
		for sk, sums := range s.scopes {
			if sk.kind != r.scope {
				continue
			}
			num, den := sums[r.window][r.metric.Num], sums[r.window][r.metric.Den]
			if den < minSample {
				continue
			}
			bk := breachKey{ri, sk}
			healthy := r.ok(float64(num)*r.metric.Scale/float64(den), threshold)
			if healthy == !s.breach[bk] {
				continue
			}
			ts = append(ts, transition{rule: ri, scope: sk, name: a.scopeName(s.shop, sk), sums: sums[r.window]})
		}
	}
	slices.SortFunc(ts, func(x, y transition) int {
		if x.rule != y.rule {
			return x.rule - y.rule
		}
		if x.scope.kind != y.scope.kind {
			return int(x.scope.kind) - int(y.scope.kind)
		}
		return cmp.Compare(x.name, y.name)
	})
	for _, t := range ts {
		bk := breachKey{t.rule, t.scope}
		state := schemas.AlertBreach
		if s.breach[bk] {
			state = schemas.AlertRecovered
			delete(s.breach, bk)
		} else {
			s.breach[bk] = true
		}
		a.out = append(a.out, a.alert(s, z, b, t, state))
	}
	for sk, sums := range s.scopes {
		if noFigures(sums) && !a.inBreach(s, sk) {
			delete(s.scopes, sk)
		}
	}
}

func noFigures(sums []figValues) bool {
	for i := range sums {
		if sums[i] != (figValues{}) {
			return false
		}
	}
	return true
}

func (a *alerts) inBreach(s *alertShop, sk scopeKey) bool {
	for bk := range s.breach {
		if bk.scope == sk {
			return true
		}
	}
	return false
}

func (a *alerts) scopeName(shop uint32, sk scopeKey) string {
	if sk.kind == scopeShopKind {
		return a.e.shopIDs.name(shop)
	}
	return a.e.names.name(sk.id)
}

// forShop is the rule's threshold and minimum sample for a shop, and
// whether it applies there.
func (r *alertRule) forShop(shop string) (float64, int64, bool) {
	threshold, minSample := r.Threshold, r.MinSample
	if o, ok := r.Shops[shop]; ok {
		if o.Off {
			return 0, 0, false
		}
		if o.Threshold != nil {
			threshold = *o.Threshold
		}
		if o.MinSample != nil {
			minSample = *o.MinSample
		}
	}
	return threshold, minSample, true
}

// alert builds the record of a transition.
func (a *alerts) alert(s *alertShop, z *eventtime.Zone, b int64, t transition, state string) schemas.Alert {
	r := &a.rules[t.rule]
	shopID := a.e.shopIDs.name(s.shop)
	threshold, _, _ := r.forShop(shopID)
	num, den := t.sums[r.metric.Num], t.sums[r.metric.Den]
	start := a.windows[r.window].start(z, b)
	group := ""
	switch t.scope.kind {
	case scopeGroupKind:
		group = t.name
	case scopeAgentKind:
		group = a.agentGroup(s.shop, t.scope.id, start, b)
	}
	al := schemas.Alert{
		ShopID: shopID, Rule: r.Name, Scope: scopeNames[t.scope.kind], ScopeID: t.name, GroupID: group,
		Metric: r.Metric, Window: r.WindowName(),
		WindowStart: time.UnixMilli(start).UTC(), WindowEnd: time.UnixMilli(b).UTC(),
		Value: float64(num) * r.metric.Scale / float64(den), Numerator: num, Denominator: den,
		Threshold: threshold, Direction: r.Direction, State: state, EvaluatedAt: time.UnixMilli(b).UTC(),
	}
	al.AlertID = alertID(&al, b)
	return al
}

// alertID is deterministic: the same rule, scope, hour end and state give
// the same id, whichever process or replay evaluates it.
func alertID(al *schemas.Alert, b int64) string {
	h := sha256.New()
	for _, part := range []string{al.Rule, al.ShopID, al.Scope, al.ScopeID, strconv.FormatInt(b, 10), al.State} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// agentGroup is the group of an agent's latest figures in [from, to): the
// smallest group name of the latest hour that has any.
func (a *alerts) agentGroup(shop, agent uint32, from, to int64) string {
	for h := to - hourMs; h >= from; h -= hourMs {
		best, found := "", false
		for _, fc := range a.e.fig.hour(shop, h) {
			if fc.key.agent != agent || fc.v == (figValues{}) {
				continue
			}
			if g := a.e.names.name(fc.key.group); !found || g < best {
				best, found = g, true
			}
		}
		if found {
			return best
		}
	}
	return ""
}

// forget drops the hourly figures that no window reaches any more and
// that can no longer change.
func (a *alerts) forget(s *alertShop, b int64) {
	e := a.e
	h := s.floor
	for h < b-a.keep && e.isFinal(h) {
		h += hourMs
	}
	if h != s.floor {
		e.forgetFigures(s.shop, s.floor, h)
		s.floor = h
	}
}

// takeAlerts returns the alerts emitted since the last call; flush writes
// the same alerts to cs_alerts.
func (e *Engine) takeAlerts() []schemas.Alert {
	if e.alerts == nil {
		return nil
	}
	out := e.alerts.taken
	e.alerts.taken = nil
	return out
}

// flush writes the alerts emitted since the last flush to cs_alerts and
// keeps them for takeAlerts.
func (a *alerts) flush(version uint64, out RowSink) {
	if len(a.out) == 0 {
		return
	}
	e := a.e
	for i := range a.out {
		al := &a.out[i]
		shop, _ := e.shop([]byte(al.ShopID))
		day := e.shopZones[shop].Day(al.EvaluatedAt.UnixMilli() - 1)
		r := out.Rows(AlertsTable)
		for _, s := range [...]string{al.AlertID, al.ShopID, al.Rule, al.Scope, al.ScopeID, al.GroupID, al.Metric, al.Window} {
			r.String(s)
		}
		r.Time(al.WindowStart)
		r.Time(al.WindowEnd)
		r.Float64(al.Value)
		r.Int64(al.Numerator)
		r.Int64(al.Denominator)
		r.Float64(al.Threshold)
		r.String(al.Direction)
		r.String(al.State)
		r.Time(al.EvaluatedAt)
		r.Time(dateTime(day))
		r.UInt64(version)
		r.End()
	}
	a.taken = append(a.taken, a.out...)
	a.out = a.out[:0:0]
}
