package metrics

import (
	"cmp"
	"slices"

	"github.com/cspulse/cspulse/eventtime"
)

// Rankings (绩效排名, SPEC §4.3): for every shop and every group, per local
// day, the agents with a reception that day ranked by received buyers, the
// session 3-minute reply rate, the satisfaction rate and received
// sessions; each with the mean over the ranked agents and the rank change
// against the previous day. Receptions come from the sessions' closes
// (signed, like every listener's), the rates from the agent cells'
// figures (figures.go), so they are the hourly tables' own numbers. A
// day's rows are written again whenever its figures, or the previous
// day's, change; a day is forgotten once the next day is final too.
type rankings struct {
	e    *Engine
	days map[shopDay]*rankDay
	// dirty days are written at the next flush; changed ones saved at the
	// next saveChanged.
	dirty   []*rankDay
	changed changes[*rankDay]
	buyers  changes[*rankBuyer] // changed since the last saveChanged
}

type shopDay struct {
	shop uint32
	day  eventtime.Date
}

// rankKey is an agent in a ranking: group 0 with scopeShop is the
// shop's ranking of its agents over all their groups.
type rankKey struct {
	shop  bool // the shop's ranking; else group's
	group uint32
	agent uint32
}

// rankFigures are one agent's figures of a day in one ranking.
type rankFigures struct {
	sessions, buyers                 int64 // received sessions and distinct buyers
	pairs, pairsOK, ratings, satisfy int64
	ranked                           bool // had a reception at some point: its row is written
}

type rankDay struct {
	shopDay
	agents    map[rankKey]*rankFigures
	buyers    map[string]*rankBuyer
	dirty     bool
	forgotten bool
	entryState
}

func (rd *rankDay) gone() bool { return rd.forgotten }

type buyerCount struct {
	key rankKey
	n   int64
}

// count returns k's count and its index in b.counts, -1 when absent.
func (b *rankBuyer) count(k rankKey) (int64, int) {
	for i, c := range b.counts {
		if c.key == k {
			return c.n, i
		}
	}
	return 0, -1
}

// rankBuyer counts one buyer's receptions of a day per ranking entry:
// received buyers are the entries with a count above 0.
type rankBuyer struct {
	day    *rankDay
	buyer  string
	counts []buyerCount // few: the agents who received the buyer that day
	entryState
}

func (b *rankBuyer) gone() bool { return len(b.counts) == 0 }

func newRankings(e *Engine) *rankings {
	return &rankings{e: e, days: make(map[shopDay]*rankDay)}
}

func (r *rankings) day(shop uint32, d eventtime.Date) *rankDay {
	k := shopDay{shop, d}
	rd := r.days[k]
	if rd == nil {
		rd = &rankDay{shopDay: k, agents: make(map[rankKey]*rankFigures), buyers: make(map[string]*rankBuyer)}
		r.days[k] = rd
	}
	return rd
}

func (r *rankings) touch(rd *rankDay) {
	if !rd.dirty {
		rd.dirty = true
		r.dirty = append(r.dirty, rd)
	}
	r.changed.note(r.e.ckpt.tracking, rd)
}

func (rd *rankDay) figures(k rankKey) *rankFigures {
	f := rd.agents[k]
	if f == nil {
		f = &rankFigures{}
		rd.agents[k] = f
	}
	return f
}

// sessionClosed counts s's receptions, with sign: per (group, agent) on
// the day of that agent's first reception in the group, and per agent on
// the day of its first reception in the session.
func (r *rankings) sessionClosed(s *session, sign int64) {
	e := r.e
	type first struct {
		key rankKey
		ts  int64
	}
	var firsts [8]first
	seen := firsts[:0]
	for i := range s.d.cur + 1 {
		if !e.reception(s, i) {
			continue
		}
		a := &s.assigns[i]
		for _, k := range [...]rankKey{{shop: true, agent: a.agent}, {group: a.group, agent: a.agent}} {
			if !slices.ContainsFunc(seen, func(f first) bool { return f.key == k }) {
				seen = append(seen, first{k, a.ts})
			}
		}
	}
	for _, f := range seen {
		rd := r.day(s.shop, s.zone.Day(f.ts))
		fig := rd.figures(f.key)
		fig.sessions += sign
		r.countBuyer(rd, s.hdr.buyer, f.key, fig, sign)
		r.touch(rd)
	}
}

// countBuyer adds sign to a buyer's receptions by an agent; the agent's
// received buyers change when the count leaves or reaches 0.
func (r *rankings) countBuyer(rd *rankDay, buyer string, k rankKey, fig *rankFigures, sign int64) {
	b := rd.buyers[buyer]
	if b == nil {
		b = &rankBuyer{day: rd, buyer: buyer}
		rd.buyers[buyer] = b
	}
	before, i := b.count(k)
	after := before + sign
	switch {
	case i < 0:
		b.counts = append(b.counts, buyerCount{k, after})
	case after == 0:
		b.counts = slices.Delete(b.counts, i, i+1)
	default:
		b.counts[i].n = after
	}
	switch {
	case before <= 0 && after > 0:
		fig.buyers++
	case before > 0 && after <= 0:
		fig.buyers--
	}
	if len(b.counts) == 0 {
		delete(rd.buyers, buyer) // its saved entry, if any, is deleted at the next save
	}
	r.buyers.note(r.e.ckpt.tracking, b)
}

// figuresChanged adds an agent cell's change of rates to its day.
func (r *rankings) figuresChanged(k agentKey, delta *figValues) {
	if delta[figPairsWindow]|delta[figPairsOK]|delta[figRatingsWindow]|delta[figSatisfiedWindow] == 0 {
		return
	}
	rd := r.day(k.shop, r.e.shopZones[k.shop].Day(k.hour))
	for _, rk := range [...]rankKey{{shop: true, agent: k.agent}, {group: k.group, agent: k.agent}} {
		f := rd.figures(rk)
		f.pairs += delta[figPairsWindow]
		f.pairsOK += delta[figPairsOK]
		f.ratings += delta[figRatingsWindow]
		f.satisfy += delta[figSatisfiedWindow]
	}
	r.touch(rd)
}

// flush writes the rankings of every day whose figures changed, and of the
// day after it (its rank changes), then forgets the days whose next day is
// final.
func (r *rankings) flush(version uint64, out RowSink) {
	e := r.e
	write := map[shopDay]bool{}
	for _, rd := range r.dirty {
		rd.dirty = false
		write[rd.shopDay] = true
		if next := (shopDay{rd.shop, rd.day + 1}); r.days[next] != nil {
			write[next] = true
		}
	}
	clear(r.dirty)
	r.dirty = r.dirty[:0]
	keys := make([]shopDay, 0, len(write))
	for k := range write {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y shopDay) int {
		if x.shop != y.shop {
			return cmp.Compare(e.shopIDs.name(x.shop), e.shopIDs.name(y.shop))
		}
		return int(x.day - y.day)
	})
	for _, k := range keys {
		r.writeDay(r.days[k], version, out)
	}
	for k, rd := range r.days {
		z := e.shopZones[k.shop]
		if e.finalBefore >= z.DateStart(k.day+2) && !rd.dirty {
			r.forget(rd)
		}
	}
}

func (r *rankings) forget(rd *rankDay) {
	delete(r.days, rd.shopDay)
	rd.forgotten = true
	r.changed.note(r.e.ckpt.tracking, rd)
	for _, b := range rd.buyers {
		b.counts = nil
		r.buyers.note(r.e.ckpt.tracking, b)
	}
}
