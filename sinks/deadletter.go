package sinks

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Dead-letter record headers. The record value and key are the original
// bytes, untouched, so a fixed record can be re-produced as it is; what went
// wrong travels in these headers, where kcat (-f '%h') and any client read it.
const (
	HeaderReason    = "cspulse.reason"
	HeaderField     = "cspulse.field"
	HeaderDetail    = "cspulse.detail"
	HeaderTopic     = "cspulse.topic"
	HeaderPartition = "cspulse.partition"
	HeaderOffset    = "cspulse.offset"
)

// DeadLetter describes why one input record was rejected.
type DeadLetter struct {
	Reason string
	Field  string
	Detail string
}

// DeadLetters produces rejected records to the dead-letter topic. Sends are
// asynchronous; Flush waits until every send so far is acknowledged, which
// the pipeline does before it commits the offsets of the rejected records.
type DeadLetters struct {
	client *kgo.Client
	topic  string

	mu  sync.Mutex
	err error // first failed send since the last Flush
}

// NewDeadLetters sends with client (which must allow producing) to topic.
func NewDeadLetters(client *kgo.Client, topic string) *DeadLetters {
	return &DeadLetters{client: client, topic: topic}
}

// Send queues the original record with the reason in its headers.
func (d *DeadLetters) Send(orig *kgo.Record, dl DeadLetter) {
	rec := &kgo.Record{
		Topic: d.topic,
		Key:   orig.Key,
		Value: orig.Value,
		Headers: []kgo.RecordHeader{
			{Key: HeaderReason, Value: []byte(dl.Reason)},
			{Key: HeaderField, Value: []byte(dl.Field)},
			{Key: HeaderDetail, Value: []byte(dl.Detail)},
			{Key: HeaderTopic, Value: []byte(orig.Topic)},
			{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(orig.Partition), 10)},
			{Key: HeaderOffset, Value: strconv.AppendInt(nil, orig.Offset, 10)},
		},
	}
	d.client.Produce(context.Background(), rec, d.record)
}

func (d *DeadLetters) record(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	d.mu.Lock()
	if d.err == nil {
		d.err = fmt.Errorf("dead letter for %s[%s]: %w", d.topic, headerValue(r, HeaderOffset), err)
	}
	d.mu.Unlock()
}

// Flush waits for every queued dead letter and reports the first failure.
func (d *DeadLetters) Flush(ctx context.Context) error {
	if err := d.client.Flush(ctx); err != nil {
		return fmt.Errorf("flush dead letters: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.err
	d.err = nil
	return err
}

func headerValue(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
