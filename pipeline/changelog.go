package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/metrics"
	"github.com/cspulse/cspulse/schemas"
	"github.com/cspulse/cspulse/sinks"
)

// The changelog holds each task's state: partition p holds task p's
// operator entries (their own keys), the rows of its last checkpoint
// (rowsKeyPrefix + chunk number) and one entry under taskKey with the
// input offsets, watermark and checkpoint number that state reflects. It
// is compacted, and a restore reads the partition to its end keeping the
// last write per key, so it is correct whether or not compaction has run.
//
// A checkpoint's records are written in one Kafka transaction
// (kafka.transactions, the default), and restores read committed records
// only: a checkpoint is in the changelog whole or not at all. Without
// transactions the task entry is written last and every record carries
// its checkpoint's number (seqHeader), so that a restore can tell a
// checkpoint cut in the middle and refuse it loudly rather than load a
// mix of two.

// taskKey is the runner's own entry; operator keys never equal it.
const taskKey = "task"

// rowsKeyPrefix + n holds chunk n of the rows of the task's last
// checkpoint, for a restore to insert again (write-ahead).
const rowsKeyPrefix = "rows/"

// seqHeader carries a changelog record's checkpoint number.
const seqHeader = "cspulse.seq"

// Task entry versions: 1 had offsets and watermark; 2 adds the row
// version and the pending row chunks.
const (
	taskStateV1 = 1
	taskStateV2 = 2
)

// stateBatch collects one task's changed entries as changelog records.
type stateBatch struct {
	topic     string
	partition int32
	recs      []*kgo.Record
	headers   []kgo.RecordHeader // shared by every record of the batch
}

var _ metrics.StateSink = (*stateBatch)(nil)

// Put implements metrics.StateSink.
func (b *stateBatch) Put(key, value []byte) {
	b.recs = append(b.recs, &kgo.Record{
		Topic: b.topic, Partition: b.partition, Headers: b.headers,
		Key: append([]byte(nil), key...), Value: append([]byte{}, value...),
	})
}

// Delete implements metrics.StateSink with a tombstone (nil value).
func (b *stateBatch) Delete(key []byte) {
	b.recs = append(b.recs, &kgo.Record{Topic: b.topic, Partition: b.partition, Headers: b.headers, Key: append([]byte(nil), key...)})
}

// setSeq stamps the batch's records with checkpoint number seq.
func (b *stateBatch) setSeq(seq uint64) {
	b.headers = []kgo.RecordHeader{{Key: seqHeader, Value: strconv.AppendUint(nil, seq, 10)}}
	for _, r := range b.recs {
		r.Headers = b.headers
	}
}

// taskState is what the runner itself keeps of a task.
type taskState struct {
	next      [len(schemas.Topics)]int64
	watermark int64
	// version is the version column of the rows of the last checkpoint,
	// and the checkpoint's number in seqHeader. See nextVersion.
	version   uint64
	rowChunks int // that checkpoint's rows: rowsKeyPrefix + 0 … rowChunks−1
}

// nextVersion is the version of the next checkpoint's rows: the wall clock
// in milliseconds, or one more than the last version if that is larger (a
// hybrid logical clock). A restore keeps the last version, so versions
// only grow across restores and replays, whatever the new owner's clock;
// and a rebuild into a new changelog (recreated topics, a new group)
// starts at its wall clock, above the rows of every earlier run.
func nextVersion(last uint64, now time.Time) uint64 {
	return max(last+1, uint64(now.UnixMilli()))
}

func (s taskState) encode() []byte {
	b := []byte{taskStateV2}
	b = binary.AppendUvarint(b, uint64(len(s.next)))
	for _, n := range s.next {
		b = binary.AppendVarint(b, n)
	}
	b = binary.AppendVarint(b, s.watermark)
	b = binary.AppendUvarint(b, s.version)
	return binary.AppendUvarint(b, uint64(s.rowChunks))
}

// v1Inputs is the number of inputs of a version-1 entry, written before
// cs.outreach: the five required ones.
const v1Inputs = 5

func decodeTaskState(b []byte) (taskState, error) {
	var s taskState
	truncated := fmt.Errorf("changelog entry %q: truncated", taskKey)
	if len(b) == 0 || (b[0] != taskStateV1 && b[0] != taskStateV2) {
		return s, fmt.Errorf("changelog entry %q: unknown version", taskKey)
	}
	v2 := b[0] == taskStateV2
	d := rowDecoder{b: b[1:]}
	inputs := uint64(v1Inputs)
	if v2 {
		inputs = d.uvarint()
	}
	if inputs > uint64(len(s.next)) {
		return s, fmt.Errorf("changelog entry %q: %d inputs, this build reads %d", taskKey, inputs, len(s.next))
	}
	for i := range int(inputs) {
		s.next[i] = d.varint()
	}
	s.watermark = d.varint()
	if v2 {
		s.version = d.uvarint()
		s.rowChunks = int(d.uvarint())
	}
	if d.err != nil {
		return s, truncated
	}
	return s, nil
}

// changelogRead is what a restore found in a changelog partition.
type changelogRead struct {
	entries map[string][]byte // the live entries: last write per key, tombstones removed
	maxSeq  uint64            // the largest checkpoint number on any record read
}

// readChangelog reads partition p of topic to its end and returns the live
// entries. With transactions it reads committed records only, and first
// waits (up to wait) until no transaction is open on the partition: the
// caller has fenced the previous writer, whose open transaction the
// broker is aborting.
func readChangelog(ctx context.Context, opts []kgo.Opt, topic string, p int32, transactional bool, wait time.Duration) (changelogRead, error) {
	read := changelogRead{entries: map[string][]byte{}}
	opts = append(slices.Clone(opts), kgo.KeepControlRecords(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {p: kgo.NewOffset().AtStart()},
	}))
	if transactional {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return read, err
	}
	defer cl.Close()
	end, err := changelogEnd(ctx, kadm.NewClient(cl), topic, p, transactional, wait)
	if err != nil {
		return read, err
	}
	for next := int64(0); next < end; {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return read, fmt.Errorf("changelog %s[%d]: %w", topic, p, err)
		}
		if err := fetchError(fetches); err != nil {
			return read, fmt.Errorf("changelog %s[%d]: %w", topic, p, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if r.Attrs.IsControl() || r.Offset >= end {
				return
			}
			read.maxSeq = max(read.maxSeq, recordSeq(r))
			if r.Value == nil {
				delete(read.entries, string(r.Key))
			} else {
				read.entries[string(r.Key)] = r.Value
			}
		})
	}
	return read, nil
}

// changelogEnd is the offset a restore reads to: the high watermark, once
// the last stable offset has caught up with it (transactions), or at once.
func changelogEnd(ctx context.Context, adm *kadm.Client, topic string, p int32, transactional bool, wait time.Duration) (int64, error) {
	deadline := time.Now().Add(wait)
	for {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return 0, fmt.Errorf("changelog %s end offsets: %w", topic, err)
		}
		end, ok := ends.Lookup(topic, p)
		var lso kadm.ListedOffset
		var why error
		switch {
		case !ok || end.Err != nil:
			// A changelog created a moment ago may not be in every
			// broker's metadata yet.
			why = fmt.Errorf("end offset unknown: %v", end.Err)
		case !transactional:
			return end.Offset, nil
		default:
			stable, err := adm.ListCommittedOffsets(ctx, topic)
			if err != nil {
				return 0, fmt.Errorf("changelog %s stable offsets: %w", topic, err)
			}
			if lso, ok = stable.Lookup(topic, p); !ok || lso.Err != nil {
				why = fmt.Errorf("stable offset unknown: %v", lso.Err)
			} else if lso.Offset >= end.Offset {
				return end.Offset, nil
			} else {
				why = fmt.Errorf("a transaction is still open (stable offset %d, end %d)", lso.Offset, end.Offset)
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("changelog %s[%d] after %v: %w", topic, p, wait, why)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func recordSeq(r *kgo.Record) uint64 {
	for _, h := range r.Headers {
		if h.Key == seqHeader {
			n, _ := strconv.ParseUint(string(h.Value), 10, 64)
			return n
		}
	}
	return 0
}

func fetchError(f kgo.Fetches) error {
	var err error
	f.EachError(func(_ string, _ int32, e error) {
		if err == nil && !errors.Is(e, context.Canceled) {
			err = e
		}
	})
	return err
}

// errIncompleteCheckpoint marks a changelog that ends in a checkpoint cut
// in the middle, possible only without transactions.
var errIncompleteCheckpoint = errors.New("the changelog ends in an incomplete checkpoint")

// restored is a task rebuilt from its changelog partition.
type restored struct {
	state     taskState
	pending   *sinks.Buffer // the rows of the last checkpoint, to insert again
	heldEvals []heldEval    // evaluations waiting for the watermark (heldevals.go)
	ok        bool          // false: the changelog holds nothing for this task
}

// restore loads the entries into engine and returns the runner's own state
// and the last checkpoint's rows.
func restore(e Engine, read changelogRead) (restored, error) {
	entries := read.entries
	raw, ok := entries[taskKey]
	if !ok {
		if len(entries) > 0 {
			return restored{}, fmt.Errorf("%w: %d entries but no %q entry (the first checkpoint was cut)",
				errIncompleteCheckpoint, len(entries), taskKey)
		}
		return restored{state: taskState{watermark: math.MinInt64}}, nil
	}
	st, err := decodeTaskState(raw)
	if err != nil {
		return restored{}, err
	}
	if read.maxSeq > st.version {
		return restored{}, fmt.Errorf("%w: records of checkpoint %d after the last complete one, %d",
			errIncompleteCheckpoint, read.maxSeq, st.version)
	}
	pending := sinks.NewBuffer(nil)
	for i := range st.rowChunks {
		chunk, ok := entries[rowsChunkKey(i)]
		if !ok {
			return restored{}, fmt.Errorf("changelog: pending rows chunk %d of %d is missing", i, st.rowChunks)
		}
		if err := decodeRows(chunk, pending); err != nil {
			return restored{}, err
		}
	}

	var held []heldEval
	for key, value := range entries {
		if key == taskKey || strings.HasPrefix(key, rowsKeyPrefix) {
			continue
		}
		if strings.HasPrefix(key, heldEvalPrefix) {
			e, err := decodeHeldEval(key, value)
			if err != nil {
				return restored{}, err
			}
			held = append(held, e)
			continue
		}
		if err := e.Load([]byte(key), value); err != nil {
			return restored{}, err
		}
	}
	if err := e.LoadDone(); err != nil {
		return restored{}, err
	}
	return restored{state: st, pending: pending, heldEvals: held, ok: true}, nil
}

func rowsChunkKey(i int) string { return rowsKeyPrefix + strconv.Itoa(i) }

// ensureChangelog creates the compacted changelog with one partition per
// input partition, or checks the one that exists.
func ensureChangelog(ctx context.Context, cl *kgo.Client, topic string, partitions int32) error {
	adm := kadm.NewClient(cl)
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, partitions, -1, map[string]*string{"cleanup.policy": &compact}, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create changelog %s: %w", topic, err)
	}
	if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create changelog %s: %w", topic, resp.Err)
	}
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe changelog %s: %w", topic, err)
	}
	if n := int32(len(details[topic].Partitions)); n != partitions {
		return fmt.Errorf("changelog %s has %d partitions, the input topics %d: they must match", topic, n, partitions)
	}
	return nil
}
