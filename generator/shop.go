package generator

import (
	"math"
	"time"
)

// Milliseconds, the unit of every ts.
const (
	second = int64(1000)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour

	// sessionTimeout is SPEC §1's default session_timeout; the generator
	// shapes its edge cases (exact gap, messages after the close) around it.
	sessionTimeout = 30 * minute
)

// hourlyTraffic is the relative session arrival rate per local hour: quiet
// nights, a morning peak 10–12, an evening peak 20–22, as on Taobao/Douyin.
var hourlyTraffic = [24]float64{
	0.35, 0.20, 0.10, 0.06, 0.05, 0.06, 0.15, 0.40, // 00–07
	0.80, 1.20, 1.70, 1.80, 1.30, 1.20, 1.35, 1.40, // 08–15
	1.30, 1.10, 1.00, 1.30, 1.80, 1.90, 1.50, 0.90, // 16–23
}

// Weekends are a little busier; the factors average to 1 over a week.
const (
	weekdayFactor = 0.96
	weekendFactor = 1.10
)

// agentProfile makes agents differ, so that rankings and alerts have
// something to rank and alert on.
type agentProfile struct {
	group       uint8
	replyMedian float64 // ms, typical reply delay
	slowShare   float64 // replies slower than 3 minutes
	silentShare float64 // bursts never answered
}

type robotTask struct{ task, robot, altRobot uint8 }

// shop is the state of one simulated shop. Nothing in it grows with the
// number of days: ids are counters and returning buyers come from a small
// ring of recent ones.
type shop struct {
	index uint32
	id    string
	key   []byte
	clock zoneClock
	start int64 // local midnight of the first day, epoch ms
	end   int64 // local midnight after the last day
	// slipFrom and slipTo bound the hours in which the shop's agents are
	// slow (Config.SlipEvery); equal when it does not slip.
	slipFrom, slipTo int64
	edgeBefore       bool // the last window-edge message went 1 ms before the edge
	rng              rng
	agents           []agentProfile // index 0 is the supervisor a00
	group            [3][]uint8     // agents by group
	tasks            []robotTask

	// arrival process (thinning of a Poisson process, see advanceArrival)
	nextArrival int64
	ratePerMs   float64 // average arrivals per ms at weight 1
	maxRate     float64 // bound of rateAt, per ms

	nextEventID  uint64
	nextPoisonID uint64
	nextSession  uint32
	nextBuyer    uint32
	nextOrder    uint32
	recent       [64]uint32 // ring of recent buyers
	recentCount  int
	out          outreach // exclusive customers (outreach.go)

	// JSON fragments of the shop's ids, rendered once.
	eventIDPrefix   []byte   // {"event_id":"shop-0001-
	shopAndTS       []byte   // ","shop_id":"shop-0001","ts":
	sessionIDPrefix []byte   // ,"session_id":"shop-0001-s
	buyerIDPrefix   []byte   // ,"buyer_id":"shop-0001-b
	orderIDPrefix   []byte   // ,"order_id":"shop-0001-o
	agentJSON       [][]byte // "shop-0001-a01" with quotes
}

func newShop(cfg Config, index int, loc *time.Location) *shop {
	num := index + 1
	id := ShopID(num)
	y, m, d := cfg.Start.Date()
	sh := &shop{
		index:           uint32(index),
		id:              id,
		key:             []byte(id),
		clock:           zoneClock{loc: loc},
		start:           time.Date(y, m, d, 0, 0, 0, 0, loc).UnixMilli(),
		end:             time.Date(y, m, d+cfg.Days, 0, 0, 0, 0, loc).UnixMilli(),
		slipFrom:        time.Date(y, m, d, slipHour, 0, 0, 0, loc).UnixMilli(),
		rng:             newRNG(cfg.Seed, uint64(num)),
		eventIDPrefix:   []byte(`{"event_id":"` + id + "-"),
		shopAndTS:       []byte(`","shop_id":"` + id + `","ts":`),
		sessionIDPrefix: []byte(`,"session_id":"` + id + "-s"),
		buyerIDPrefix:   []byte(`,"buyer_id":"` + id + "-b"),
		orderIDPrefix:   []byte(`,"order_id":"` + id + "-o"),
		nextBuyer:       1, // b0 is the test account
	}
	sh.slipTo = sh.slipFrom
	if Slips(cfg, num) {
		sh.slipTo = time.Date(y, m, d, slipHour+slipHours, 0, 0, 0, loc).UnixMilli()
	}
	sh.initAgents(cfg.AgentsPerShop)
	sh.initTasks()
	sh.initArrivals(cfg.SessionsPerShopDay)
	sh.out = newOutreach(cfg, num, sh.start)
	return sh
}

// A slipping shop (Config.SlipEvery) is slow from slipHour local for
// slipHours hours of its first day, most replies taking over 3 minutes.
const (
	slipHour      = 10
	slipHours     = 2
	slipSlowShare = 0.8
)

// slowShare is the share of agent p's replies that take over 3 minutes at
// t: its own habit, or most of them while the shop slips.
func (sh *shop) slowShare(p *agentProfile, t int64) float64 {
	if sh.slipFrom <= t && t < sh.slipTo {
		return slipSlowShare
	}
	return p.slowShare
}

// Slips reports whether shop number num (1-based) slips under cfg.
func Slips(cfg Config, num int) bool {
	return cfg.SlipEvery > 0 && num >= 3 && (num-3)%cfg.SlipEvery == 0
}

// initAgents puts about 60 % of the agents into pre-sales (售前) and the
// rest into after-sales (售后), each with a reply habit of their own; about
// one shop in four has a notably slow agent.
func (sh *shop) initAgents(n int) {
	sh.agentJSON = make([][]byte, n+1)
	sh.agents = make([]agentProfile, n+1)
	for a := 0; a <= n; a++ {
		sh.agentJSON[a] = []byte(`"` + AgentID(sh.id, a) + `"`)
	}
	preSales := (n*6 + 9) / 10
	for a := 1; a <= n; a++ {
		p := agentProfile{
			group:       groupPre,
			replyMedian: float64(sh.rng.between(15*second, 40*second)),
			slowShare:   0.01 + 0.05*sh.rng.float(),
			silentShare: 0.005 + 0.02*sh.rng.float(),
		}
		if a > preSales {
			p.group = groupAfter
		}
		if a == n && sh.rng.chance(0.25) {
			p.replyMedian, p.slowShare, p.silentShare = float64(70*second), 0.25, 0.06
		}
		sh.agents[a] = p
		sh.group[p.group] = append(sh.group[p.group], uint8(a))
	}
	if len(sh.group[groupAfter]) == 0 { // a one-agent shop serves both queues
		sh.group[groupAfter] = sh.group[groupPre]
	}
}

// initTasks gives the shop a few outbound call tasks, each run by one robot
// script mostly and a second one sometimes.
func (sh *shop) initTasks() {
	n := 2 + sh.rng.intn(3)
	first := 1 + sh.rng.intn(maxTask-n+1)
	for i := 0; i < n; i++ {
		sh.tasks = append(sh.tasks, robotTask{
			task:     uint8(first + i),
			robot:    uint8(1 + sh.rng.intn(maxRobot)),
			altRobot: uint8(1 + sh.rng.intn(maxRobot)),
		})
	}
}

// shopSizes are the deciles of a log-normal distribution (σ 0.6) scaled to
// mean 1: a few big shops, many small ones. Shop n gets size (3n mod 10), so
// any ten consecutive shops average exactly SessionsPerShopDay, and a
// shop's traffic does not depend on how many shops the run has.
var shopSizes = [10]float64{0.319, 0.460, 0.571, 0.679, 0.794, 0.923, 1.079, 1.283, 1.594, 2.298}

// initArrivals sizes the shop and draws the first arrival.
func (sh *shop) initArrivals(sessionsPerDay int) {
	size := shopSizes[(3*(sh.index+1))%10] * (0.9 + 0.2*sh.rng.float())
	var sum, peak float64
	for _, w := range hourlyTraffic {
		sum += w
		peak = max(peak, w)
	}
	sh.ratePerMs = float64(sessionsPerDay) * size / sum / float64(hour)
	sh.maxRate = sh.ratePerMs * peak * weekendFactor
	sh.nextArrival = sh.start
	sh.advanceArrival()
}

// rateAt is the arrival rate (per ms) at instant t, from the local hour and
// weekday.
func (sh *shop) rateAt(t int64) float64 {
	local := sh.clock.local(t)
	factor := weekdayFactor
	if wd := (local/day + 4) % 7; wd == 0 || wd == 6 { // 1970-01-01 was a Thursday
		factor = weekendFactor
	}
	return sh.ratePerMs * hourlyTraffic[local/hour%24] * factor
}

// advanceArrival draws the next session start by thinning: candidates come
// at the peak rate and are kept with probability rate(t)/peak, which gives
// the exact non-homogeneous Poisson process of the daily curve.
func (sh *shop) advanceArrival() {
	t := sh.nextArrival
	for {
		t += int64(sh.rng.exp(1/sh.maxRate)) + 1
		if t >= sh.end || sh.rng.float()*sh.maxRate < sh.rateAt(t) {
			break
		}
	}
	sh.nextArrival = t
}

// localHour is the shop's wall-clock hour at t.
func (sh *shop) localHour(t int64) int { return int(sh.clock.local(t) / hour % 24) }

// newBuyer returns a first-time buyer.
func (sh *shop) newBuyer() uint32 {
	b := sh.nextBuyer
	sh.nextBuyer++
	sh.recent[sh.recentCount%len(sh.recent)] = b
	sh.recentCount++
	return b
}

// returningBuyer picks a recent buyer (a new one when there is none yet).
func (sh *shop) returningBuyer() uint32 {
	n := min(sh.recentCount, len(sh.recent))
	if n == 0 {
		return sh.newBuyer()
	}
	return sh.recent[sh.rng.intn(n)]
}

// pickBuyer picks the buyer of a new session: mostly new, a quarter
// returning, and 1 % the shop's own test account b0.
func (sh *shop) pickBuyer(returningShare float64) uint32 {
	switch u := sh.rng.float(); {
	case u < 0.01:
		return 0
	case u < 0.01+returningShare:
		return sh.returningBuyer()
	default:
		return sh.newBuyer()
	}
}

// pickAgent picks an agent of group g other than avoid (when possible).
func (sh *shop) pickAgent(g uint8, avoid uint8) uint8 {
	members := sh.group[g]
	a := members[sh.rng.intn(len(members))]
	if a == avoid && len(members) > 1 {
		a = members[(indexOf(members, a)+1+sh.rng.intn(len(members)-1))%len(members)]
	}
	return a
}

func indexOf(s []uint8, v uint8) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// zoneClock converts epoch ms to local wall-clock ms, caching the zone's
// current offset until the next transition (DST).
type zoneClock struct {
	loc         *time.Location
	offset      int64
	valid       bool
	from, until int64
}

func (z *zoneClock) local(t int64) int64 {
	if !z.valid || t < z.from || t >= z.until {
		z.refresh(t)
	}
	return t + z.offset
}

func (z *zoneClock) refresh(t int64) {
	tt := time.UnixMilli(t).In(z.loc)
	_, off := tt.Zone()
	start, end := tt.ZoneBounds()
	z.offset = int64(off) * second
	z.from, z.until = math.MinInt64, math.MaxInt64
	if !start.IsZero() {
		z.from = start.UnixMilli()
	}
	if !end.IsZero() {
		z.until = end.UnixMilli()
	}
	z.valid = true
}
