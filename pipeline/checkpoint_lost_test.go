package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/broker"
	"github.com/cspulse/cspulse/sinks"
	"github.com/cspulse/cspulse/tables"
)

// TestLostPartitionCheckpointIsAbandoned (issue 17.6): a checkpoint part
// whose partition is lost while its transaction is being written is
// abandoned: nothing of it is committed to the changelog, its rows are not
// inserted and its offsets are not committed. The parts of the partitions
// still owned go on as usual.
func TestLostPartitionCheckpointIsAbandoned(t *testing.T) {
	cfg := config.Defaults()
	cfg.Run.StateCheckpoints = true
	const changelog = "lost.changelog"
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Topics: []string{changelog}, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	conn := []kgo.Opt{kgo.SeedBrokers(b.Addr())}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	rows := &recordingRows{}
	r := NewRunner(&cfg, zaptest.NewLogger(t), rows, Engines{})
	// A client outside any group: the offset commit fails, which the
	// checkpoint only logs (the changelog's offsets are the ones that
	// count); what it tried to commit is left in snap.offsets.
	cl, err := kgo.NewClient(conn...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	r.client = cl

	table := sinks.Table{Name: "t", Columns: []string{"partition"}}
	part := func(p int32, alive context.Context) snapshotTask {
		w, err := newCheckpointWriter(conn, changelog, p, true, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.close)
		if err := w.fence(ctx); err != nil {
			t.Fatal(err)
		}
		buf := sinks.NewBuffer(rows)
		buf.Add(table, []any{p})
		state := &stateBatch{topic: changelog, partition: p}
		state.Put([]byte("k"), []byte("state of a checkpoint"))
		return snapshotTask{partition: p, taskCheckpoint: &taskCheckpoint{rows: buf, state: state}, writer: w, alive: alive}
	}
	lost, lose := context.WithCancel(context.Background())
	lose() // the partition is lost while the checkpoint is written
	snap := &checkpointSnapshot{
		tasks: []snapshotTask{part(0, context.Background()), part(1, lost)},
		offsets: map[string]map[int32]kgo.EpochOffset{
			"cs.sessions": {0: {Epoch: -1, Offset: 10}, 1: {Epoch: -1, Offset: 20}},
		},
		taken: time.Now(),
	}
	if err := r.persist(ctx, snap); err != nil {
		t.Fatalf("persist: %v", err)
	}

	if got := rows.partitions(); len(got) != 1 || got[0] != 0 {
		t.Errorf("rows inserted for partitions %v, want [0] only", got)
	}
	if _, ok := snap.offsets["cs.sessions"][1]; ok {
		t.Errorf("offsets of the lost partition were committed: %v", snap.offsets)
	}
	if _, ok := snap.offsets["cs.sessions"][0]; !ok {
		t.Errorf("offsets of the owned partition were dropped: %v", snap.offsets)
	}
	committed := readCommitted(t, ctx, conn, changelog)
	if committed[0] != 1 || committed[1] != 0 {
		t.Errorf("committed changelog records by partition: %v, want 1 of partition 0 and none of partition 1", committed)
	}
}

// recordingRows is a sinks.RowWriter that keeps the rows written to it.
type recordingRows struct {
	mu   sync.Mutex
	rows [][]any
}

func (w *recordingRows) Write(_ context.Context, rows *tables.Rows) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range rows.Len() {
		w.rows = append(w.rows, rows.Row(i))
	}
	return nil
}

// partitions returns the first column of every row written.
func (w *recordingRows) partitions() []int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ps []int32
	for _, r := range w.rows {
		ps = append(ps, r[0].(int32))
	}
	return ps
}

// readCommitted counts the committed records of topic per partition, read
// to the end with read_committed isolation.
func readCommitted(t *testing.T, ctx context.Context, conn []kgo.Opt, topic string) map[int32]int {
	t.Helper()
	cl, err := kgo.NewClient(append(conn, kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	counts := map[int32]int{}
	// Poll until both partitions' positions pass their last stable offsets
	// (aborted records and control records included): a few polls at most.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) { counts[r.Partition]++ })
	}
	return counts
}
