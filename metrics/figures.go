package metrics

// Figures: the alerts (SPEC §4.2) and the rankings (§4.3) are computed
// from the figures the hourly agent cells hold, not a second time from the
// events. Every contribution to an agent cell passes touchAgent, which
// lists the cell once (watched); drainFigures later compares each listed
// cell with the copy of its figure columns taken at the previous drain and
// hands the difference on. The copies are kept per (shop, group, agent,
// hour) for as long as the longest alert window needs them, so that a
// rolling window is kept as running sums: an hour's copy is added when the
// window reaches it and subtracted when it leaves, and a late change inside
// the window is added as its difference.
//
// Draining is deterministic whenever it happens: a sum is always the sum
// of the current copies over its window, so the engine drains at every
// evaluation (Advance) and at flush, before state is saved.

// Columns of a figure copy: the agent-cell columns alerts and rankings use.
const (
	figBuyerMsgsWindow = iota
	figReplied3min
	figRepliedMsgs
	figResponseMs
	figAssignments
	figPicked
	figWaitSum
	figWaitCount
	figRatingsWindow
	figSatisfiedWindow
	figPairsWindow
	figPairsOK
	figFirstRespSum
	figFirstRespCount
	numFigCols
)

type figValues [numFigCols]int64

// figAgentCols maps each figure column to its agent-cell column.
var figAgentCols = [numFigCols]int{
	agentBuyerMsgsWindow, agentReplied3minWindow, agentRepliedMsgs, agentResponseMsSum,
	agentAssignments, agentPicked, agentWaitSum, agentWaitCount,
	agentRatingsWindow, agentSatisfiedWindow, agentPairsWindow, agentPairsOK,
	agentFirstResponseSum, agentFirstResponseCount,
}

func figuresOf(v *agentValues) (f figValues) {
	for i, col := range figAgentCols {
		f[i] = v[col]
	}
	return f
}

func (f *figValues) add(g *figValues, sign int64) {
	for i := range f {
		f[i] += sign * g[i]
	}
}

// figCell is the copy of one agent cell's figures.
type figCell struct {
	key agentKey
	v   figValues
	cellStatus
}

func figCols(v *figValues) []int64 { return v[:] }

// shopHour keys the copies of one shop's hour.
type shopHour struct {
	shop uint32
	hour int64
}

// figureListener hears each change of a copy: the difference, and the
// copy's key.
type figureListener interface {
	figuresChanged(k agentKey, delta *figValues)
}

// figures keeps the copies and the list of cells changed since the last
// drain.
type figures struct {
	watched []*agentCell
	cells   map[agentKey]*figCell
	byHour  map[shopHour][]*figCell // the same copies, by shop and hour
	changed changes[*figCell]       // since the last saveChanged
	listen  []figureListener
}

func newFigures() *figures {
	return &figures{cells: make(map[agentKey]*figCell), byHour: make(map[shopHour][]*figCell)}
}

// watch lists a touched agent cell for the next drain (from touchAgent).
func (f *figures) watch(c *agentCell) {
	c.watched = true
	f.watched = append(f.watched, c)
}

// drain brings the copies up to date with the cells listed since the last
// drain and tells the listeners the differences.
func (e *Engine) drainFigures() {
	f := e.fig
	if f == nil {
		return
	}
	for _, c := range f.watched {
		c.watched = false
		now := figuresOf(&c.v)
		fc := f.cells[c.key]
		if fc == nil {
			if now == (figValues{}) {
				continue
			}
			fc = f.add(c.key)
		}
		delta := now
		delta.add(&fc.v, -1)
		if delta == (figValues{}) {
			continue
		}
		fc.v = now
		f.changed.note(e.ckpt.tracking, fc)
		for _, l := range f.listen {
			l.figuresChanged(c.key, &delta)
		}
	}
	clear(f.watched)
	f.watched = f.watched[:0]
}

func (f *figures) add(k agentKey) *figCell {
	fc := &figCell{key: k}
	f.cells[k] = fc
	sh := shopHour{k.shop, k.hour}
	f.byHour[sh] = append(f.byHour[sh], fc)
	return fc
}

// hour returns the copies of a shop's hour.
func (f *figures) hour(shop uint32, hour int64) []*figCell {
	return f.byHour[shopHour{shop, hour}]
}

// forget drops the copies of a shop's hours before `before`, which no
// window reaches any more.
func (e *Engine) forgetFigures(shop uint32, from, before int64) {
	f := e.fig
	for h := from; h < before; h += hourMs {
		sh := shopHour{shop, h}
		for _, fc := range f.byHour[sh] {
			delete(f.cells, fc.key)
			fc.dropped = true
			f.changed.note(e.ckpt.tracking, fc)
		}
		delete(f.byHour, sh)
	}
}
