package metrics

import (
	"cmp"
	"slices"

	"github.com/cspulse/cspulse/tables"
)

// rankMetric is one figure of a ranking: its value of an agent, nil when
// there is nothing to measure, as a fraction num/den (den 1 for counts)
// so that ties are exact.
type rankMetric func(f *rankFigures) (num, den int64, ok bool)

var rankMetrics = [...]rankMetric{
	func(f *rankFigures) (int64, int64, bool) { return f.buyers, 1, true },
	func(f *rankFigures) (int64, int64, bool) { return f.pairsOK, f.pairs, f.pairs > 0 },
	func(f *rankFigures) (int64, int64, bool) { return f.satisfy, f.ratings, f.ratings > 0 },
	func(f *rankFigures) (int64, int64, bool) { return f.sessions, 1, true },
}

// ranking is one ranking of a day: the shop's, or one group's.
type ranking struct {
	shop  bool
	group uint32
}

// rankResult is one agent's place in a ranking: per metric, its rank (0:
// none) and the ranking's mean.
type rankResult struct {
	rank [len(rankMetrics)]uint32
}

type rankTable struct {
	agents map[uint32]*rankResult // ranked agents
	means  [len(rankMetrics)]*float64
	count  int
}

// rank ranks the agents with a reception in one ranking of a day: 1 is
// best, ties share the smallest rank (1, 1, 3). Means are summed in the
// order of the agents' names, so that they are the same to the last bit
// in every process.
func (r *rankings) rank(rd *rankDay, which ranking) rankTable {
	t := rankTable{agents: map[uint32]*rankResult{}}
	if rd == nil {
		return t
	}
	var keys []rankKey
	for k, f := range rd.agents {
		if k.shop == which.shop && k.group == which.group && f.sessions > 0 {
			keys = append(keys, k)
			t.agents[k.agent] = &rankResult{}
		}
	}
	t.count = len(keys)
	r.sortedKeys(keys)
	for m, metric := range rankMetrics {
		sum, n := 0.0, 0
		for _, k := range keys {
			num, den, ok := metric(rd.agents[k])
			if !ok {
				continue
			}
			sum += float64(num) / float64(den)
			n++
			better := uint32(0)
			for _, o := range keys {
				onum, oden, ook := metric(rd.agents[o])
				if ook && onum*den > num*oden {
					better++
				}
			}
			t.agents[k.agent].rank[m] = better + 1
		}
		if n > 0 {
			mean := sum / float64(n)
			t.means[m] = &mean
		}
	}
	return t
}

// writeDay writes every ranking row of a day: the agents ever ranked in
// it, a row with ranked = 0 for one whose reception was taken back.
func (r *rankings) writeDay(rd *rankDay, version uint64, out RowSink) {
	if rd == nil {
		return
	}
	e := r.e
	prev := r.days[shopDay{rd.shop, rd.day - 1}]
	byRanking := map[ranking][2]rankTable{} // this day's, the previous day's
	keys := make([]rankKey, 0, len(rd.agents))
	for k, f := range rd.agents {
		if f.sessions > 0 {
			f.ranked = true
		}
		if !f.ranked {
			continue
		}
		keys = append(keys, k)
		w := ranking{k.shop, k.group}
		if _, ok := byRanking[w]; !ok {
			byRanking[w] = [2]rankTable{r.rank(rd, w), r.rank(prev, w)}
		}
	}
	slices.SortFunc(keys, func(x, y rankKey) int {
		if x.shop != y.shop {
			if x.shop {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(e.names.name(x.group), e.names.name(y.group)); c != 0 {
			return c
		}
		return cmp.Compare(e.names.name(x.agent), e.names.name(y.agent))
	})
	for _, k := range keys {
		t := byRanking[ranking{k.shop, k.group}]
		r.row(out.Rows(RankingsTable), rd, k, t[0], t[1], version)
	}
}

func (r *rankings) row(out *tables.Rows, rd *rankDay, k rankKey, now, before rankTable, version uint64) {
	e := r.e
	f := rd.agents[k]
	scope, group := ScopeShop, ""
	if !k.shop {
		scope, group = ScopeGroup, e.names.name(k.group)
	}
	res, ranked := now.agents[k.agent]
	out.String(e.shopIDs.name(rd.shop))
	out.Time(dateTime(rd.day))
	out.String(scope)
	out.String(group)
	out.String(e.names.name(k.agent))
	out.UInt8(boolByte(ranked))
	out.UInt32(uint32(now.count))
	for m, metric := range rankMetrics {
		num, den, ok := metric(f)
		switch {
		case isCount(m):
			out.UInt64(uint64(max(num, 0)))
		case ok:
			v := float64(num) / float64(den)
			out.NullFloat64(&v)
		default:
			out.NullFloat64(nil)
		}
		var rankPtr *uint32
		var change *int32
		if ranked && res.rank[m] > 0 {
			rk := res.rank[m]
			rankPtr = &rk
			if old, had := before.agents[k.agent]; had && old.rank[m] > 0 {
				c := int32(old.rank[m]) - int32(rk)
				change = &c
			}
		}
		out.NullUInt32(rankPtr)
		out.NullFloat64(now.means[m])
		out.NullInt32(change)
		switch m {
		case 1:
			out.UInt64(uint64(max(f.pairs, 0)))
			out.UInt64(uint64(max(f.pairsOK, 0)))
		case 2:
			out.UInt64(uint64(max(f.ratings, 0)))
			out.UInt64(uint64(max(f.satisfy, 0)))
		}
	}
	out.UInt64(version)
	out.End()
}

// isCount: received buyers and received sessions are counts, UInt64; the
// others rates, Nullable(Float64).
func isCount(m int) bool { return m == 0 || m == 3 }

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
