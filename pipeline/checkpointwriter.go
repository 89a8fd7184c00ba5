package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/internal/failpoint"
)

// checkpointWriter writes one task's checkpoints to Kafka: its dead
// letters and its records of the changelog partition, in one transaction
// when transactions are on. Its transactional id belongs to the partition
// (not to the process), so the next owner of the partition fences it: once
// that owner has initialised its producer, every write of this one fails,
// and the transaction this one left open is aborted.
type checkpointWriter struct {
	cl        *kgo.Client
	txn       bool
	partition int32
}

// newCheckpointWriter makes the writer of task p. Changelog records carry
// their partition; other records (dead letters) are placed by key, as the
// Java client and franz-go place them.
func newCheckpointWriter(conn []kgo.Opt, changelog string, p int32, txn bool, timeout time.Duration) (*checkpointWriter, error) {
	opts := append(slices.Clone(conn),
		kgo.RecordPartitioner(changelogPartitioner{changelog: changelog, keyed: kgo.StickyKeyPartitioner(nil)}),
		kgo.ProducerLinger(0),
	)
	if txn {
		opts = append(opts, kgo.TransactionalID(transactionalID(changelog, p)), kgo.TransactionTimeout(timeout))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint writer of partition %d: %w", p, err)
	}
	return &checkpointWriter{cl: cl, txn: txn, partition: p}, nil
}

// transactionalID is the same for every owner of partition p of a
// changelog, which is what makes a new owner fence the old one.
func transactionalID(changelog string, p int32) string {
	return fmt.Sprintf("cspulse/%s/%d", changelog, p)
}

// fence takes the partition's transactional id over: the previous
// owner's producer is fenced and its open transaction aborted. Call it
// before reading the changelog to restore.
func (w *checkpointWriter) fence(ctx context.Context) error {
	if !w.txn {
		return nil
	}
	if _, _, err := w.cl.ProducerID(ctx); err != nil {
		return fmt.Errorf("take over the changelog writes of partition %d (a Kafka transactional producer; "+
			"a cluster without transactions needs kafka.transactions=false): %w", w.partition, err)
	}
	return nil
}

// write makes recs durable: in one committed transaction, or (without
// transactions) in order, the task entry last.
func (w *checkpointWriter) write(ctx context.Context, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if w.txn {
		if err := w.cl.BeginTransaction(); err != nil {
			return w.fail(ctx, fmt.Errorf("begin transaction: %w", err))
		}
	}
	first := recs
	if failpoint.Armed(failpoint.CheckpointStateMid) && len(recs) > 1 {
		first = recs[:len(recs)/2]
	}
	if err := w.cl.ProduceSync(ctx, first...).FirstErr(); err != nil {
		return w.fail(ctx, fmt.Errorf("write %d records: %w", len(first), err))
	}
	if rest := recs[len(first):]; len(rest) > 0 {
		failpoint.Hit(failpoint.CheckpointStateMid)
		if err := w.cl.ProduceSync(ctx, rest...).FirstErr(); err != nil {
			return w.fail(ctx, fmt.Errorf("write %d records: %w", len(rest), err))
		}
	}
	failpoint.Hit(failpoint.CheckpointBeforeCommit)
	if w.txn {
		if err := w.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return w.fail(ctx, fmt.Errorf("commit transaction: %w", err))
		}
	}
	return nil
}

// fail aborts the open transaction, if any, and describes err; a fenced
// writer is told apart, since it means another member owns the partition.
func (w *checkpointWriter) fail(ctx context.Context, err error) error {
	if w.txn {
		abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = w.cl.AbortBufferedRecords(abortCtx)
		_ = w.cl.EndTransaction(abortCtx, kgo.TryAbort)
		cancel()
	}
	if fenced(err) {
		return fmt.Errorf("partition %d: %w: %w", w.partition, errFenced, err)
	}
	return fmt.Errorf("partition %d: %w", w.partition, err)
}

// errFenced: another member took the partition over; this one must not
// write for it any more.
var errFenced = errors.New("fenced by the partition's new owner")

func fenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed) || errors.Is(err, kerr.InvalidProducerIDMapping)
}

func (w *checkpointWriter) close() { w.cl.Close() }

// changelogPartitioner sends changelog records to the partition they name
// and every other record by its key.
type changelogPartitioner struct {
	changelog string
	keyed     kgo.Partitioner
}

func (p changelogPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic == p.changelog {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return p.keyed.ForTopic(topic)
}
