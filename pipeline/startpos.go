package pipeline

import (
	"context"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
)

// inputOffsets are the input partitions' log start and end offsets and
// the group's committed offsets when partitions are assigned: with them a
// new task knows which of its inputs still hold records for it.
type inputOffsets struct {
	starts, ends kadm.ListedOffsets
	committed    kadm.OffsetResponses
	latest       bool
}

// listInputOffsets lists them; nil when the brokers do not answer in time
// (the inputs are then judged by their fetches alone).
func (r *Runner) listInputOffsets(ctx context.Context, cl *kgo.Client) *inputOffsets {
	ctx, cancel := context.WithTimeout(ctx, kafkaCallTimeout)
	defer cancel()
	adm := kadm.NewClient(cl)
	o := &inputOffsets{latest: r.latest()}
	var err error
	if o.ends, err = adm.ListEndOffsets(ctx, r.cfg.Topics.Inputs()...); err == nil {
		if o.starts, err = adm.ListStartOffsets(ctx, r.cfg.Topics.Inputs()...); err == nil {
			o.committed, err = adm.FetchOffsets(ctx, r.cfg.Kafka.Group)
		}
	}
	if err != nil {
		r.log.Warn("list input offsets at assignment", zap.Error(err))
		return nil
	}
	return o
}

// markBehind marks each input of t whose partition holds records past
// where t starts (Watermarks.SetBehind): such an input is not idle after
// time.idle_input of silence but after twelve times that, until a fetch
// shows it caught up. Without it, an input whose first fetch is slow (a
// backlog, a starved machine) counted as idle after idle_input from the
// start, and the watermark ran past the records still to come.
func (o *inputOffsets) markBehind(t *task, inputs []string, rest restored) {
	for i, topic := range inputs {
		end, ok := o.ends.Lookup(topic, t.partition)
		if !ok || end.Err != nil {
			continue
		}
		var restoredAt int64
		if rest.ok {
			restoredAt = rest.state.next[i]
		}
		start, _ := o.starts.Lookup(topic, t.partition)
		c, committed := o.committed.Lookup(topic, t.partition)
		pos := startPosition(restoredAt, c.At, committed && c.Err == nil && c.At >= 0, start.Offset, end.Offset, o.latest)
		t.marks.SetBehind(i, end.Offset > pos)
	}
}

// startPosition is where a task reads an input partition from: the offset
// its restored state reflects, else the group's committed offset, else
// what kafka.start_offset says (the log's start, or its end with latest).
func startPosition(restored, committed int64, hasCommitted bool, logStart, logEnd int64, latest bool) int64 {
	switch {
	case restored > 0:
		return restored
	case hasCommitted:
		return committed
	case latest:
		return logEnd
	}
	return logStart
}
