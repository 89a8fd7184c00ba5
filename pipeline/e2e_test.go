package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/broker"
	"github.com/cspulse/cspulse/internal/pipetest"
	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/pipeline"
)

// The whole path on real parts: the embedded Kafka-protocol broker, the
// runner with the real engine, the real ClickHouse server.

// record is one input record as a test writes it.
type record struct {
	topic string
	key   string
	value string
}

// ev builds the JSON of an event at local time hh:mm:ss on 2026-11-02 in
// Asia/Shanghai, the default zone.
func ev(topic, shop, id, clock string, fields string) record {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	t, err := time.ParseInLocation("2006-01-02 15:04:05", "2026-11-02 "+clock, loc)
	if err != nil {
		panic(err)
	}
	v := fmt.Sprintf(`{"event_id":%q,"shop_id":%q,"ts":%d%s}`, id, shop, t.UnixMilli(), fields)
	return record{topic: topic, key: shop, value: v}
}

// oneServedSession is a session whose every figure is worked out by hand
// from SPEC §3 in the comments; the expectations below come from there.
func oneServedSession() []record {
	const s = "cs.sessions"
	return []record{
		ev(s, "shop-a", "e01", "10:00:00", `,"type":"started","session_id":"s1","buyer_id":"b1","origin":"buyer"`),
		ev("cs.transfers", "shop-a", "e02", "10:00:10", `,"type":"queued","session_id":"s1","group_id":"g1"`),
		ev("cs.transfers", "shop-a", "e03", "10:00:40", `,"type":"assigned","session_id":"s1","group_id":"g1","agent_id":"a1"`),
		ev("cs.messages", "shop-a", "e04", "10:01:00", `,"session_id":"s1","sender":"buyer","text":"在吗"`),
		ev("cs.messages", "shop-a", "e05", "10:02:00", `,"session_id":"s1","sender":"agent","agent_id":"a1","text":"在的"`),
		ev("cs.messages", "shop-a", "e06", "10:05:00", `,"session_id":"s1","sender":"buyer"`),
		ev("cs.messages", "shop-a", "e07", "10:09:00", `,"session_id":"s1","sender":"agent","agent_id":"a1"`),
		ev(s, "shop-a", "e08", "10:10:00", `,"type":"ended","session_id":"s1"`),
		ev("cs.evaluations", "shop-a", "e09", "10:20:00", `,"session_id":"s1","score":5`),
		// A second shop, abandoned in the queue.
		ev(s, "shop-b", "e10", "11:00:00", `,"type":"started","session_id":"s2","buyer_id":"b2","origin":"buyer"`),
		ev("cs.transfers", "shop-b", "e11", "11:00:05", `,"type":"queued","session_id":"s2","group_id":"g1"`),
		ev("cs.transfers", "shop-b", "e12", "11:03:00", `,"type":"abandoned","session_id":"s2"`),
		ev(s, "shop-b", "e13", "11:03:01", `,"type":"ended","session_id":"s2"`),
	}
}

// poison are bad records, each with the reason the pipeline must give.
var poison = []struct {
	rec    record
	reason string
}{
	{record{"cs.messages", "shop-a", `{"event_id":"p1",`}, "not_json"},
	{record{"cs.messages", "shop-a", `{"event_id":"p2","shop_id":"shop-a","ts":1,"session_id":"s1"}`}, "ts_out_of_range"},
	{record{"cs.messages", "shop-b", `{"event_id":"p3","shop_id":"shop-a","ts":1793584800000,"session_id":"s1","sender":"buyer"}`}, "key_mismatch"},
	{record{"cs.sessions", "shop-a", `{"event_id":"p4","shop_id":"shop-a","ts":1793584800000,"type":"paused","session_id":"s1"}`}, "unknown_enum"},
	{record{"cs.evaluations", "shop-a", `{"event_id":"p5","shop_id":"shop-a","ts":1793584800000,"session_id":"s1"}`}, "missing_field"},
}

type harness struct {
	t      *testing.T
	cfg    *config.Config
	broker *broker.Broker
	chAddr string
}

func newHarness(t *testing.T) *harness {
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse and the embedded broker")
	}
	cfg := config.Defaults()
	b := pipetest.Start(t, &cfg)
	return &harness{t: t, cfg: &cfg, broker: b, chAddr: cfg.ClickHouse.Addr[0]}
}

func (h *harness) produce(recs []record) {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.broker.Addr()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	var krecs []*kgo.Record
	for _, r := range recs {
		krecs = append(krecs, &kgo.Record{Topic: r.topic, Key: []byte(r.key), Value: []byte(r.value)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, krecs...).FirstErr(); err != nil {
		h.t.Fatalf("produce: %v", err)
	}
}

// run runs the pipeline until the input is idle, as `cspulse run --until-idle`.
func (h *harness) run() pipeline.Summary {
	h.t.Helper()
	return pipetest.Run(h.t, h.cfg)
}

// sums returns sum(col) for each col of table (read with FINAL) as a map.
func (h *harness) sums(table, where string, cols ...string) map[string]int64 {
	h.t.Helper()
	conn := testenv.Conn(h.t, h.chAddr, h.cfg.ClickHouse.Database)
	var sel []string
	for _, c := range cols {
		sel = append(sel, fmt.Sprintf("toInt64(sum(%s))", c))
	}
	q := fmt.Sprintf("SELECT %s FROM %s FINAL WHERE %s", strings.Join(sel, ", "), table, where)
	vals := make([]int64, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := conn.QueryRow(context.Background(), q).Scan(ptrs...); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	out := map[string]int64{}
	for i, c := range cols {
		out[c] = vals[i]
	}
	return out
}

func expectSums(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s = %d, want %d", what, k, got[k], w)
		}
	}
}

func TestWholePathServedSession(t *testing.T) {
	h := newHarness(t)
	recs := oneServedSession()
	for _, p := range poison {
		recs = append(recs, p.rec)
	}
	h.produce(recs)
	sum := h.run()

	if sum.Events != int64(len(oneServedSession())) {
		t.Errorf("events applied = %d, want %d", sum.Events, len(oneServedSession()))
	}
	if sum.DeadLetters != int64(len(poison)) {
		t.Errorf("dead letters = %d, want %d", sum.DeadLetters, len(poison))
	}
	// SPEC §3.1: 10:01→10:02 is 60 s (within 3 min), 10:05→10:09 is 240 s
	// (not); the pair (s1, a1) therefore misses the session-level rate.
	// §3.1 first response: 10:02:00 − assigned 10:00:40 = 80 s. §3.2 wait:
	// 10:00:40 − 10:00:10 = 30 s. §3.3: one rating of 5 at 10:20, in window.
	expectSums(t, "cs_agent_hourly a1", h.sums("cs_agent_hourly", "shop_id = 'shop-a' AND agent_id = 'a1' AND group_id = 'g1'",
		"buyer_msgs", "buyer_msgs_window", "replied_3min_window", "replied_msgs", "response_ms_sum", "agent_msgs",
		"session_pairs_window", "session_pairs_3min_ok", "assignments", "picked_assignments",
		"first_response_ms_sum", "first_response_count", "wait_ms_sum", "wait_count", "ratings_window", "satisfied_window"),
		map[string]int64{"buyer_msgs": 2, "buyer_msgs_window": 2, "replied_3min_window": 1, "replied_msgs": 2,
			"response_ms_sum": 300000, "agent_msgs": 2, "session_pairs_window": 1, "session_pairs_3min_ok": 0,
			"assignments": 1, "picked_assignments": 1, "first_response_ms_sum": 80000, "first_response_count": 1,
			"wait_ms_sum": 30000, "wait_count": 1, "ratings_window": 1, "satisfied_window": 1})
	// The whole of shop-a's figures sit in the local hour 10:00, i.e. 02:00 UTC.
	expectSums(t, "cs_agent_hourly hour", h.sums("cs_agent_hourly",
		"shop_id = 'shop-a' AND hour = toDateTime('2026-11-02 02:00:00', 'UTC') AND hour_of_day = 10 AND day = toDate('2026-11-02')",
		"buyer_msgs"), map[string]int64{"buyer_msgs": 2})
	expectSums(t, "cs_shop_hourly shop-a", h.sums("cs_shop_hourly", "shop_id = 'shop-a'",
		"consult_sessions", "transferred_sessions", "transferred_picked_sessions", "received_sessions", "abandoned_sessions"),
		map[string]int64{"consult_sessions": 1, "transferred_sessions": 1, "transferred_picked_sessions": 1, "received_sessions": 1, "abandoned_sessions": 0})
	expectSums(t, "cs_shop_hourly shop-b", h.sums("cs_shop_hourly", "shop_id = 'shop-b'",
		"consult_sessions", "transferred_sessions", "transferred_picked_sessions", "received_sessions", "abandoned_sessions"),
		map[string]int64{"consult_sessions": 1, "transferred_sessions": 1, "transferred_picked_sessions": 0, "received_sessions": 0, "abandoned_sessions": 1})
	expectSums(t, "cs_sessions", h.sums("cs_sessions", "1",
		"1", "buyer_msgs", "agent_msgs", "picked", "abandoned", "rating"),
		map[string]int64{"1": 2, "buyer_msgs": 2, "agent_msgs": 2, "picked": 1, "abandoned": 1, "rating": 5})

	h.checkDeadLetters()
}

// checkDeadLetters reads cs.deadletter with kcat, an outside client, and
// expects every poison record with its reason and original bytes.
func (h *harness) checkDeadLetters() {
	t := h.t
	kcat := testenv.Kcat(t)
	out, err := exec.Command(kcat, "-C", "-b", h.broker.Addr(), "-t", h.cfg.Topics.DeadLetter,
		"-o", "beginning", "-e", "-q", "-f", "%h\t%s\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	for _, p := range poison {
		want := "cspulse.reason=" + p.reason
		found := false
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, want) && strings.HasSuffix(line, "\t"+p.rec.value) {
				found = true
				if !strings.Contains(line, "cspulse.topic="+p.rec.topic) || !strings.Contains(line, "cspulse.offset=") {
					t.Errorf("dead letter without its source: %s", line)
				}
			}
		}
		if !found {
			t.Errorf("no dead letter with %s and value %s in:\n%s", want, p.rec.value, out)
		}
	}
}

// kcatProduce has kcat, not Go, write recs, with extra kcat arguments.
func (h *harness) kcatProduce(recs []record, args ...string) {
	t := h.t
	t.Helper()
	kcat := testenv.Kcat(t)
	byTopic := map[string][]record{}
	for _, r := range recs {
		byTopic[r.topic] = append(byTopic[r.topic], r)
	}
	for topic, recs := range byTopic {
		var buf bytes.Buffer
		for _, r := range recs {
			fmt.Fprintf(&buf, "%s\t%s\n", r.key, r.value)
		}
		file := filepath.Join(t.TempDir(), topic+".txt")
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := append([]string{"-P", "-b", h.broker.Addr(), "-t", topic, "-K", "\t", "-l", file}, args...)
		out, err := exec.Command(kcat, cmd...).CombinedOutput()
		if err != nil {
			t.Fatalf("kcat -P %s: %v\n%s", topic, err, out)
		}
	}
}

// TestKcatProducesInput has kcat, not Go, write the input: the broker and
// pipeline must work with any Kafka client that partitions as Kafka does
// (README: kcat needs -X partitioner=murmur2_random).
func TestKcatProducesInput(t *testing.T) {
	h := newHarness(t)
	h.kcatProduce(oneServedSession(), "-X", "partitioner=murmur2_random")
	sum := h.run()
	if sum.DeadLetters != 0 {
		t.Errorf("dead letters = %d, want 0", sum.DeadLetters)
	}
	expectSums(t, "cs_agent_hourly", h.sums("cs_agent_hourly", "agent_id = 'a1'", "buyer_msgs", "replied_3min_window", "ratings"),
		map[string]int64{"buyer_msgs": 2, "replied_3min_window": 1, "ratings": 1})
	expectSums(t, "cs_shop_hourly", h.sums("cs_shop_hourly", "1", "consult_sessions", "abandoned_sessions"),
		map[string]int64{"consult_sessions": 2, "abandoned_sessions": 1})
}

// TestKcatDefaultPartitionerIsCaught: SPEC §2 co-partitioning. kcat's
// default partitioner (librdkafka's consistent_random: crc32 of the key)
// puts some shops on other partitions than Kafka's murmur2 does; with
// kafka.partitioner=murmur2 those records are dead-lettered as
// wrong_partition and counted; with kafka.partitioner=crc32 all are good.
func TestKcatDefaultPartitionerIsCaught(t *testing.T) {
	recs := oneServedSession()
	n := int32(config.Defaults().Kafka.Partitions)
	wrong := 0
	for _, r := range recs {
		if pipeline.PartitionerCRC32.Partition([]byte(r.key), n) != pipeline.PartitionerMurmur2.Partition([]byte(r.key), n) {
			wrong++
		}
	}
	if wrong == 0 {
		t.Fatal("the test's shops land on the same partitions under crc32 and murmur2: pick others")
	}
	t.Run("murmur2 expected", func(t *testing.T) {
		h := newHarness(t)
		h.kcatProduce(recs) // kcat's default partitioner
		sum := h.run()
		if sum.DeadLetters != int64(wrong) || sum.Events != int64(len(recs)-wrong) {
			t.Errorf("dead letters %d, events %d; want %d wrong_partition and %d events", sum.DeadLetters, sum.Events, wrong, len(recs)-wrong)
		}
		out, err := exec.Command(testenv.Kcat(t), "-C", "-b", h.broker.Addr(), "-t", h.cfg.Topics.DeadLetter,
			"-o", "beginning", "-e", "-q", "-f", "%h\n").CombinedOutput()
		if err != nil {
			t.Fatalf("kcat: %v\n%s", err, out)
		}
		if got := strings.Count(string(out), "cspulse.reason=wrong_partition"); got != wrong {
			t.Errorf("%d wrong_partition dead letters in cs.deadletter, want %d:\n%s", got, wrong, out)
		}
	})
	t.Run("crc32 configured", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Kafka.Partitioner = "crc32"
		h.kcatProduce(recs)
		if sum := h.run(); sum.DeadLetters != 0 || sum.Events != int64(len(recs)) {
			t.Errorf("dead letters %d, events %d; want 0 and %d", sum.DeadLetters, sum.Events, len(recs))
		}
	})
}
