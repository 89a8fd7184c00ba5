package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/broker"
	"github.com/cspulse/cspulse/schemas"
)

type reasonDeadLetters struct{ reasons []string }

func (d *reasonDeadLetters) Send(_ *kgo.Record, dl DeadLetter) {
	d.reasons = append(d.reasons, dl.Reason)
}

func (d *reasonDeadLetters) Take() []*kgo.Record { return nil }

func messageAt(n int, shop string, ts int64, partition int32) *kgo.Record {
	v := fmt.Sprintf(`{"event_id":"e%d","shop_id":"%s","ts":%d,"session_id":"x","sender":"buyer"}`, n, shop, ts)
	return &kgo.Record{Topic: "cs.messages", Key: []byte(shop), Value: []byte(v), Offset: int64(n), Partition: partition}
}

// checkedTask is a task of partition p of n under cfg's checks, with the
// wall clock at wall and only the messages input setting the watermark.
func checkedTask(t *testing.T, cfg *config.Config, p, n int32, wall time.Time) (*task, *recordingEngine, *reasonDeadLetters) {
	t.Helper()
	checks, err := InputChecksFor(cfg, n)
	if err != nil {
		t.Fatal(err)
	}
	eng, dead := &recordingEngine{}, &reasonDeadLetters{}
	tk := newTask(p, eng, checks, newMarks(cfg), dead, newTaskStats())
	tk.wall = func() time.Time { return wall }
	for i := range schemas.Topics {
		if schemas.Topics[i] != schemas.TopicMessages {
			tk.marks.MarkIdle(i)
		}
	}
	return tk, eng, dead
}

// TestFutureRecordNeverMovesTheWatermark: SPEC §2 — a ts more than
// time.max_future ahead of the wall clock is dead-lettered as ts_in_future,
// counted, and does not move the watermark, so later good records are not
// late.
func TestFutureRecordNeverMovesTheWatermark(t *testing.T) {
	cfg := config.Defaults()
	wall := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	tk, eng, dead := checkedTask(t, &cfg, 0, 0, wall)
	good := wall.Add(-time.Minute).UnixMilli()
	in := taskInput{topic: schemas.TopicMessages, input: inputOf(t, schemas.TopicMessages), records: []*kgo.Record{
		messageAt(0, "s1", good, 0),
		messageAt(1, "s1", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), 0),
		messageAt(2, "s1", wall.Add(cfg.Time.MaxFuture).UnixMilli(), 0), // exactly max_future ahead: accepted
	}}
	tk.process(in)
	if fmt.Sprint(dead.reasons) != "[ts_in_future]" {
		t.Errorf("dead letters %v, want [ts_in_future]", dead.reasons)
	}
	if got := tk.stats.deadLetters[schemas.ReasonTSInFuture].Load(); got != 1 {
		t.Errorf("ts_in_future counted %d, want 1", got)
	}
	if len(eng.applied) != 2 {
		t.Errorf("applied %d events, want 2", len(eng.applied))
	}
	want := wall.UnixMilli() - cfg.Time.MaxOutOfOrder.Milliseconds()
	if tk.watermark != want {
		t.Errorf("watermark %d, want %d (the wall clock − max_out_of_order: the accepted record ahead of it moves it no further)", tk.watermark, want)
	}
}

// TestRecordAheadOfTheClockCannotMakeGoodRecordsLate: one record ahead of
// the wall clock but within max_future (a producer's clock 50 minutes
// fast), on a partition whose other inputs are quiet, is accepted; the
// watermark follows the wall clock, not it, so a record 20 minutes old
// that arrives next is not behind watermark − allowed_lateness. With the
// check off, the ts is taken as it is.
func TestRecordAheadOfTheClockCannotMakeGoodRecordsLate(t *testing.T) {
	cfg := config.Defaults()
	wall := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	ahead := wall.Add(50 * time.Minute).UnixMilli()
	straggler := wall.Add(-20 * time.Minute).UnixMilli()
	input := inputOf(t, schemas.TopicMessages)
	for _, tc := range []struct {
		maxFuture time.Duration
		lateAfter bool
	}{{cfg.Time.MaxFuture, false}, {0, true}} {
		cfg.Time.MaxFuture = tc.maxFuture
		tk, eng, dead := checkedTask(t, &cfg, 0, 0, wall)
		tk.process(taskInput{topic: schemas.TopicMessages, input: input, records: []*kgo.Record{messageAt(0, "s1", ahead, 0)}})
		tk.process(taskInput{topic: schemas.TopicMessages, input: input, records: []*kgo.Record{messageAt(1, "s1", straggler, 0)}})
		if len(dead.reasons) != 0 || len(eng.applied) != 2 {
			t.Errorf("max_future %v: dead letters %v, applied %d; want none and 2", tc.maxFuture, dead.reasons, len(eng.applied))
		}
		late := straggler < tk.watermark-cfg.Time.AllowedLateness.Milliseconds()
		if late != tc.lateAfter {
			t.Errorf("max_future %v: watermark %s, the straggler at %s late %v, want %v", tc.maxFuture,
				time.UnixMilli(tk.watermark).UTC().Format(time.TimeOnly), time.UnixMilli(straggler).UTC().Format(time.TimeOnly), late, tc.lateAfter)
		}
	}
}

// TestWrongPartitionIsDeadLettered: a record on another partition than
// its key's under kafka.partitioner is dead-lettered as wrong_partition,
// counted, and does not move the watermark.
func TestWrongPartitionIsDeadLettered(t *testing.T) {
	cfg := config.Defaults()
	wall := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	const n = 4
	var shops [n]string // a shop of each partition under murmur2
	for i := 0; shops[0] == "" || shops[1] == "" || shops[2] == "" || shops[3] == ""; i++ {
		s := fmt.Sprintf("shop-%04d", i)
		if p := PartitionerMurmur2.Partition([]byte(s), n); shops[p] == "" {
			shops[p] = s
		}
	}
	tk, eng, dead := checkedTask(t, &cfg, 1, n, wall)
	ts := wall.Add(-time.Hour).UnixMilli()
	in := taskInput{topic: schemas.TopicMessages, input: inputOf(t, schemas.TopicMessages), records: []*kgo.Record{
		messageAt(0, shops[1], ts, 1),
		messageAt(1, shops[2], ts+time.Minute.Milliseconds(), 1),
	}}
	tk.process(in)
	if fmt.Sprint(dead.reasons) != "[wrong_partition]" {
		t.Errorf("dead letters %v, want [wrong_partition]", dead.reasons)
	}
	if got := tk.stats.deadLetters[schemas.ReasonWrongPartition].Load(); got != 1 {
		t.Errorf("wrong_partition counted %d, want 1", got)
	}
	if d := tk.stats.wrongPartition.Load(); d == nil {
		t.Error("no example kept for the warning")
	}
	if len(eng.applied) != 1 || string(eng.applied[0].ShopID) != shops[1] {
		t.Errorf("applied %d events, want the one of %s", len(eng.applied), shops[1])
	}
	if want := ts - cfg.Time.MaxOutOfOrder.Milliseconds(); tk.watermark != want {
		t.Errorf("watermark %d, want %d", tk.watermark, want)
	}

	cfg.Kafka.Partitioner = "none"
	tk, _, dead = checkedTask(t, &cfg, 1, n, wall)
	tk.process(in)
	if len(dead.reasons) != 0 {
		t.Errorf("partitioner none: dead letters %v, want none", dead.reasons)
	}
}

// TestPartitionerHashes: known placements of Kafka's murmur2 (the Java
// client's DefaultPartitioner, franz-go) and librdkafka's consistent (crc32).
func TestPartitionerHashes(t *testing.T) {
	for _, tt := range []struct {
		p    Partitioner
		key  string
		n    int32
		want int32
	}{
		// murmur2 values from Kafka's UtilsTest.testMurmur2.
		{PartitionerMurmur2, "21", 1 << 30, int32(-973932308 & 0x7fffffff % (1 << 30))},
		{PartitionerMurmur2, "abc", 1 << 30, int32(479470107 & 0x7fffffff % (1 << 30))},
		// crc32 (IEEE) of "abc" is 0x352441c2.
		{PartitionerCRC32, "abc", 1000, int32(0x352441c2 % 1000)},
	} {
		if got := tt.p.Partition([]byte(tt.key), tt.n); got != tt.want {
			t.Errorf("%s(%q) %% %d = %d, want %d", tt.p, tt.key, tt.n, got, tt.want)
		}
	}
	kgoPart := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := range 200 {
		key := fmt.Sprintf("shop-%04d", i)
		if got, want := PartitionerMurmur2.Partition([]byte(key), 7), int32(kgoPart.Partition(&kgo.Record{Key: []byte(key)}, 7)); got != want {
			t.Fatalf("murmur2 %q: %d, franz-go's default partitioner says %d", key, got, want)
		}
	}
}

// TestFutureRecordCannotStallAPartition is issue 16's scenario on the
// real engine: a record dated 2099 arrives, the partition's inputs fall
// quiet for time.idle_input, and later good records of an open session
// come. Without the max_future check (the control) the watermark jumps to
// 2099 and they are late; with it, only the 2099 record is dead-lettered.
func TestFutureRecordCannotStallAPartition(t *testing.T) {
	for _, checked := range []bool{false, true} {
		cfg := config.Defaults()
		cfg.Time.IdleInput = 5 * time.Second
		engines, err := NewEnginesFor(&cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !checked {
			engines.Checks.MaxFuture = 0
		}
		dead := &reasonDeadLetters{}
		tk := newTask(0, engines.New(0), engines.Checks, newMarks(&cfg), dead, newTaskStats())
		wall := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		clock := wall
		tk.wall = func() time.Time { return clock }
		tk.now = func() time.Time { return clock }
		base := wall.Add(-time.Hour).UnixMilli()
		rec := func(topic schemas.Topic, off int64, value string) taskInput {
			return taskInput{topic: topic, input: inputOf(t, topic), records: []*kgo.Record{
				{Key: []byte("s1"), Value: []byte(value), Offset: off}}}
		}
		msg := func(id string, ts int64) string {
			return fmt.Sprintf(`{"event_id":"%s","shop_id":"s1","ts":%d,"session_id":"x","sender":"buyer"}`, id, ts)
		}
		tk.process(rec(schemas.TopicSessions, 0, fmt.Sprintf(
			`{"event_id":"s","shop_id":"s1","ts":%d,"type":"started","session_id":"x","buyer_id":"b","origin":"buyer"}`, base)))
		tk.process(rec(schemas.TopicMessages, 0, msg("m1", base+1000)))
		tk.process(rec(schemas.TopicMessages, 1, msg("m2", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())))
		clock = clock.Add(cfg.Time.IdleInput + time.Second) // every input quiet for idle_input
		tk.process(rec(schemas.TopicMessages, 2, msg("m3", base+2000)))
		clock = clock.Add(cfg.Time.IdleInput + time.Second)
		tk.process(rec(schemas.TopicMessages, 3, msg("m4", base+3000)))

		late := strings.Count(fmt.Sprint(dead.reasons), "late")
		if checked {
			if fmt.Sprint(dead.reasons) != "[ts_in_future]" {
				t.Errorf("with max_future: dead letters %v, want only [ts_in_future]", dead.reasons)
			}
		} else if late == 0 {
			t.Errorf("control without max_future: dead letters %v; the scenario no longer makes good records late", dead.reasons)
		}
	}
}

// BenchmarkPartitionCheck is the per-record cost of the co-partitioning
// check on a shop key.
func BenchmarkPartitionCheck(b *testing.B) {
	key := []byte("shop-0007")
	var sink int32
	for _, p := range []Partitioner{PartitionerMurmur2, PartitionerCRC32} {
		b.Run(p.String(), func(b *testing.B) {
			for range b.N {
				sink += p.Partition(key, 12)
			}
		})
	}
	_ = sink
}

// TestProducerOption: cspulse's own producers place records where the
// check expects them, for murmur2 and crc32.
func TestProducerOption(t *testing.T) {
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Topics: []string{"t"}, Partitions: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, p := range []Partitioner{PartitionerMurmur2, PartitionerCRC32} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), p.ProducerOption())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			key := fmt.Sprintf("shop-%04d", i)
			r := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "t", Key: []byte(key)})
			rec, err := r.First()
			if err != nil {
				t.Fatal(err)
			}
			if want := p.Partition([]byte(key), 5); rec.Partition != want {
				t.Errorf("%s: %s produced to %d, the check expects %d", p, key, rec.Partition, want)
			}
		}
		cl.Close()
	}
}

// TestWrongPartitionWarningIsRateLimited: one warning per progress
// interval in which records landed on the wrong partition, with an
// example; none when none did.
func TestWrongPartitionWarningIsRateLimited(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	stats := newTaskStats()
	p := newProgress(stats, zap.New(core))
	example := `key "shop-0001" maps to partition 2`
	stats.wrongPartition.Store(&example)
	stats.deadLetters[schemas.ReasonWrongPartition].Add(3)
	now := time.Now()
	p.report(now)
	p.report(now.Add(time.Second)) // nothing new: no warning
	stats.deadLetters[schemas.ReasonWrongPartition].Add(1)
	p.report(now.Add(2 * time.Second))
	warns := logs.FilterMessageSnippet("wrong partition").All()
	if len(warns) != 2 {
		t.Fatalf("%d warnings, want 2", len(warns))
	}
	if f := warns[0].ContextMap(); f["since_last"] != int64(3) || f["last"] != example {
		t.Errorf("first warning fields %v", f)
	}
	if f := warns[1].ContextMap(); f["since_last"] != int64(1) || f["total"] != int64(4) {
		t.Errorf("second warning fields %v", f)
	}
}
