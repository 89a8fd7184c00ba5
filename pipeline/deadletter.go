package pipeline

import (
	"strconv"

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

// deadLetterRecord is the dead letter of orig for topic: the original key
// and value, untouched, with the reason in the headers. The pipeline
// produces it in the same transaction as the checkpoint that covers orig,
// so a read_committed consumer sees it once.
func deadLetterRecord(topic string, orig *kgo.Record, dl DeadLetter) *kgo.Record {
	return &kgo.Record{
		Topic: topic,
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
}
