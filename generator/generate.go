package generator

import (
	"context"
	"fmt"
	"math"
	"time"
	_ "time/tzdata" // shop zones must resolve on machines without a zoneinfo database

	"github.com/cspulse/cspulse/schemas"
)

// Record is one Kafka record to produce.
//
// Generate and ReadFiles reuse the Record and the memory behind Key and
// Value: they are valid only until emit returns, and emit must not modify
// them. A callback that keeps a record (a batching producer, a test) copies
// Key and Value.
type Record struct {
	Topic string        // default topic name, e.g. "cs.messages" (schemas.DefaultTopicNames)
	Kind  schemas.Topic // the same topic as an enum, for renaming without string compares
	Key   []byte        // the shop_id, except for poison of reason key_mismatch
	Value []byte        // one JSON object, except for poison of reason not_json
	TS    int64         // event time, epoch ms; use it as the Kafka record timestamp
	// Poison is empty for a valid record, else the dead-letter reason the
	// record was made to trigger.
	Poison schemas.Reason
}

// Stats counts what a run produced. Session figures count simulated
// sessions (follow-ups included); record figures count emitted records.
type Stats struct {
	Records    int64            // every emitted record: events, duplicates and poison
	PerTopic   map[string]int64 // records per topic name
	Events     int64            // distinct valid events (Records − Duplicates − Poison)
	Duplicates int64
	Poison     int64
	// PoisonByReason counts poison by the reason it was made to trigger.
	PoisonByReason map[schemas.Reason]int64
	Late           int64 // events delivered LateBy after their ts (LateRate)
	// LateRatings are evaluations made more than rating_window (24 h)
	// after their session's close: the pipeline dead-letters them as late.
	LateRatings int64

	Sessions          int64 // all origins
	BuyerSessions     int64
	ProactiveSessions int64
	RobotCalls        int64
	RobotConnected    int64
	Queued            int64 // sessions with ≥ 1 queued
	Abandoned         int64 // sessions whose queue ended in abandoned
	Assigned          int64 // sessions with ≥ 1 assigned (human phase)
	Transfers         int64 // agent-to-agent transfers (assigned with from_agent_id)
	Ended             int64 // sessions closed by an ended event
	TimedOut          int64 // sessions that just stop (closed by session_timeout)
	Evaluations       int64 // evaluation events, re-ratings included
	ReRatings         int64
	OrdersCreated     int64
	OrdersPaid        int64
	// Exclusive customers (cs.outreach): relationships accepted,
	// campaigns, proactive follow-up messages, presale orders.
	Relationships int64
	Campaigns     int64
	FollowUps     int64
	Presales      int64

	// MaxPending is the largest number of events held for later emission.
	// It depends on shops and sessions per day, not on the number of days:
	// the proof that generation streams.
	MaxPending int
	// FirstTS and LastTS bound the ts of the emitted events.
	FirstTS, LastTS int64
}

// window is the span of session starts generated before the queue is
// drained up to the next window: small enough to keep the queue short,
// large enough that the per-window loop over shops costs nothing.
const window = 5 * minute

// Generate simulates the traffic cfg describes and calls emit for every
// record, in event-time order up to cfg.Disorder (and LateBy for late
// events). Output depends only on cfg: the same Config gives the same
// records, byte for byte. Memory does not grow with Days: sessions are
// generated window by window and their events wait in a queue only until
// they are due. An error from emit or ctx stops the run and is returned
// with the stats so far.
func Generate(ctx context.Context, cfg Config, emit func(*Record) error) (Stats, error) {
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	g, err := newGenerator(cfg, emit)
	if err != nil {
		return Stats{}, err
	}
	err = g.run(ctx)
	return g.finalStats(), err
}

// generator is the state of one run.
type generator struct {
	cfg   Config
	shops []*shop
	emit  func(*Record) error
	queue pendingQueue

	// The delivery layer draws from streams of its own, so that the same
	// seed gives the same traffic whatever the disorder, duplicate, poison
	// and late settings.
	delay, dup, poison, late rng
	disorderMs               int64
	lateMs                   int64

	windowStart int64 // no event generated from now on is older
	rec         Record
	buf         []byte
	poisonBuf   []byte
	perTopic    [len(schemas.Topics) + 1]int64
	stats       Stats
}

var topicNames [len(schemas.Topics) + 1]string

func init() {
	for _, t := range schemas.Topics {
		topicNames[t] = schemas.DefaultTopicNames[t]
	}
}

func newGenerator(cfg Config, emit func(*Record) error) (*generator, error) {
	g := &generator{
		cfg:        cfg,
		emit:       emit,
		delay:      newRNG(cfg.Seed, 1<<32+1),
		dup:        newRNG(cfg.Seed, 1<<32+2),
		poison:     newRNG(cfg.Seed, 1<<32+3),
		late:       newRNG(cfg.Seed, 1<<32+4),
		disorderMs: cfg.Disorder.Milliseconds(),
		lateMs:     cfg.LateBy.Milliseconds(),
		buf:        make([]byte, 0, 512),
		stats:      Stats{FirstTS: math.MaxInt64, PoisonByReason: map[schemas.Reason]int64{}},
	}
	locs := map[string]*time.Location{}
	for i := 0; i < cfg.Shops; i++ {
		zone := cfg.zoneOf(i + 1)
		loc, ok := locs[zone]
		if !ok {
			var err error
			if loc, err = time.LoadLocation(zone); err != nil {
				return nil, fmt.Errorf("generator: zone of %s: %w", ShopID(i+1), err)
			}
			locs[zone] = loc
		}
		g.shops = append(g.shops, newShop(cfg, i, loc))
	}
	return g, nil
}

// run generates window after window: first it emits every pending event
// due before the window (nothing generated later can be older), then it
// simulates the sessions that start in the window.
func (g *generator) run(ctx context.Context) error {
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, sh := range g.shops {
		first, last = min(first, sh.start), max(last, sh.end)
	}
	for w := first - first%window; w < last; w += window {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := g.emitDue(w); err != nil {
			return err
		}
		g.windowStart = w
		for _, sh := range g.shops {
			g.generateShop(sh, w+window)
		}
		g.stats.MaxPending = max(g.stats.MaxPending, g.queue.len())
	}
	return g.emitDue(math.MaxInt64)
}

// generateShop simulates the sessions of sh that start before limit.
func (g *generator) generateShop(sh *shop, limit int64) {
	for sh.nextArrival < limit && sh.nextArrival < sh.end {
		g.startSession(sh, sh.nextArrival)
		sh.advanceArrival()
	}
	g.outreachShop(sh, limit)
}

// schedule numbers ev and queues it for delivery, with a delivery delay
// below Disorder; a duplicate gets its own delay, a late event LateBy.
func (g *generator) schedule(sh *shop, ev *event) {
	if ev.ts < g.windowStart {
		panic(fmt.Sprintf("generator: event at %d generated in window %d", ev.ts, g.windowStart))
	}
	sh.nextEventID++
	ev.id = sh.nextEventID
	ev.shop = sh.index
	key := ev.ts + g.deliveryDelay()
	if g.cfg.LateRate > 0 && g.late.chance(g.cfg.LateRate) {
		key = ev.ts + g.lateMs
		ev.flags |= flagLate
	}
	g.queue.push(key, ev)
	if g.cfg.DuplicateRate > 0 && g.dup.chance(g.cfg.DuplicateRate) {
		dup := *ev
		dup.flags = flagDuplicate
		g.queue.push(ev.ts+g.deliveryDelay(), &dup)
	}
}

// deliveryDelay is how long after its ts an event is delivered: mostly a
// few ms (one producer, in order), sometimes up to Disorder (another
// producer, a retry). Always < Disorder, which bounds the disorder.
func (g *generator) deliveryDelay() int64 {
	if g.disorderMs <= 0 {
		return 0
	}
	if g.delay.chance(0.8) {
		return g.delay.between(0, min(100, g.disorderMs))
	}
	return g.delay.between(0, g.disorderMs)
}

// emitDue emits every pending event whose delivery key is before limit.
func (g *generator) emitDue(limit int64) error {
	var ev event
	for g.queue.len() > 0 && g.queue.minKey() < limit {
		g.queue.pop(&ev)
		if err := g.emitEvent(&ev); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) emitEvent(ev *event) error {
	sh := g.shops[ev.shop]
	g.buf = appendEvent(g.buf[:0], sh, ev)
	topic := ev.kind.topic()
	g.rec = Record{Topic: topicNames[topic], Kind: topic, Key: sh.key, Value: g.buf, TS: ev.ts}
	if err := g.emit(&g.rec); err != nil {
		return err
	}
	g.count(topic, ev.ts)
	switch {
	case ev.flags&flagDuplicate != 0:
		g.stats.Duplicates++
	case ev.flags&flagLate != 0:
		g.stats.Late++
	}
	if g.cfg.PoisonRate > 0 && g.poison.chance(g.cfg.PoisonRate) {
		return g.emitPoison(sh, ev)
	}
	return nil
}

func (g *generator) count(topic schemas.Topic, ts int64) {
	g.stats.Records++
	g.perTopic[topic]++
	g.stats.FirstTS = min(g.stats.FirstTS, ts)
	g.stats.LastTS = max(g.stats.LastTS, ts)
}

func (g *generator) finalStats() Stats {
	s := g.stats
	s.PerTopic = make(map[string]int64, len(schemas.Topics))
	for _, t := range schemas.Topics {
		s.PerTopic[topicNames[t]] = g.perTopic[t]
	}
	s.Events = s.Records - s.Duplicates - s.Poison
	if s.Records == 0 {
		s.FirstTS = 0
	}
	return s
}
