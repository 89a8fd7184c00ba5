package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/pipeline/operators"
	"github.com/cspulse/cspulse/schemas"
)

// The changelog holds each task's state: partition p holds task p's
// operator entries (their own keys) and one entry under taskKey with the
// input offsets and watermark that state reflects. It is compacted, and a
// restore reads the partition to its end keeping the last write per key, so
// it is correct whether or not compaction has run.

// taskKey is the runner's own entry; operator keys never equal it.
const taskKey = "task"

const taskStateVersion = 1

// stateBatch collects one task's changed entries as changelog records.
type stateBatch struct {
	topic     string
	partition int32
	recs      []*kgo.Record
}

var _ operators.StateSink = (*stateBatch)(nil)

// Put implements operators.StateSink.
func (b *stateBatch) Put(key, value []byte) {
	b.recs = append(b.recs, &kgo.Record{
		Topic: b.topic, Partition: b.partition,
		Key: append([]byte(nil), key...), Value: append([]byte{}, value...),
	})
}

// Delete implements operators.StateSink with a tombstone (nil value).
func (b *stateBatch) Delete(key []byte) {
	b.recs = append(b.recs, &kgo.Record{Topic: b.topic, Partition: b.partition, Key: append([]byte(nil), key...)})
}

// taskState is what the runner itself keeps of a task.
type taskState struct {
	next      [len(schemas.Topics)]int64
	watermark int64
}

func (s taskState) encode() []byte {
	b := []byte{taskStateVersion}
	for _, n := range s.next {
		b = binary.AppendVarint(b, n)
	}
	return binary.AppendVarint(b, s.watermark)
}

func decodeTaskState(b []byte) (taskState, error) {
	var s taskState
	if len(b) == 0 || b[0] != taskStateVersion {
		return s, fmt.Errorf("changelog entry %q: unknown version", taskKey)
	}
	b = b[1:]
	for i := range s.next {
		v, n := binary.Varint(b)
		if n <= 0 {
			return s, fmt.Errorf("changelog entry %q: truncated", taskKey)
		}
		s.next[i], b = v, b[n:]
	}
	v, n := binary.Varint(b)
	if n <= 0 {
		return s, fmt.Errorf("changelog entry %q: truncated", taskKey)
	}
	s.watermark = v
	return s, nil
}

// readChangelog reads partition p of topic to its current end and returns
// the live entries (last write per key; tombstones remove).
func readChangelog(ctx context.Context, opts []kgo.Opt, topic string, p int32) (map[string][]byte, error) {
	cl, err := kgo.NewClient(append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {p: kgo.NewOffset().AtStart()},
	}))...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("changelog %s end offsets: %w", topic, err)
	}
	end, ok := ends.Lookup(topic, p)
	if !ok || end.Err != nil {
		return nil, fmt.Errorf("changelog %s[%d] end offset: %v", topic, p, end.Err)
	}
	entries := map[string][]byte{}
	for next := int64(0); next < end.Offset; {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("changelog %s[%d]: %w", topic, p, err)
		}
		if err := fetchError(fetches); err != nil {
			return nil, fmt.Errorf("changelog %s[%d]: %w", topic, p, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				delete(entries, string(r.Key))
			} else {
				entries[string(r.Key)] = r.Value
			}
			next = r.Offset + 1
		})
	}
	return entries, nil
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

// restore loads the entries into engine and returns the runner's own state;
// ok is false when the changelog holds nothing for this task.
func restore(e Engine, entries map[string][]byte) (taskState, bool, error) {
	raw, ok := entries[taskKey]
	if !ok {
		if len(entries) > 0 {
			return taskState{}, false, fmt.Errorf("changelog holds %d entries but no %q entry", len(entries), taskKey)
		}
		return taskState{watermark: math.MinInt64}, false, nil
	}
	st, err := decodeTaskState(raw)
	if err != nil {
		return st, false, err
	}
	engine, ok := e.(checkpointable)
	if !ok {
		return st, false, errors.New("the changelog holds state but the engine cannot load it")
	}
	for key, value := range entries {
		if key == taskKey {
			continue
		}
		if err := engine.Load([]byte(key), value); err != nil {
			return st, false, err
		}
	}
	if err := engine.LoadDone(); err != nil {
		return st, false, err
	}
	return st, true, nil
}

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

// produceState writes the checkpoint's state records and waits for them.
func produceState(ctx context.Context, cl *kgo.Client, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	start := time.Now()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("write changelog (%d records, %v): %w", len(recs), time.Since(start), err)
	}
	return nil
}
