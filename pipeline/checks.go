package pipeline

import (
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/schemas"
)

// Partitioner is how producers map a record key to a partition
// (kafka.partitioner).
type Partitioner uint8

const (
	PartitionerNone    Partitioner = iota // no co-partitioning check
	PartitionerMurmur2                    // Kafka's default: the Java client, franz-go, librdkafka's murmur2_random
	PartitionerCRC32                      // librdkafka's consistent and consistent_random (kcat's default)
)

// ParsePartitioner maps the kafka.partitioner value, which config
// validation has checked.
func ParsePartitioner(s string) (Partitioner, error) {
	switch s {
	case "murmur2":
		return PartitionerMurmur2, nil
	case "crc32":
		return PartitionerCRC32, nil
	case "none", "":
		return PartitionerNone, nil
	}
	return PartitionerNone, fmt.Errorf("config key kafka.partitioner: %q: must be murmur2, crc32 or none", s)
}

func (p Partitioner) String() string {
	switch p {
	case PartitionerMurmur2:
		return "murmur2"
	case PartitionerCRC32:
		return "crc32"
	}
	return "none"
}

// Partition is the partition of n that key maps to; -1 for PartitionerNone.
func (p Partitioner) Partition(key []byte, n int32) int32 {
	switch p {
	case PartitionerMurmur2:
		// Kafka's DefaultPartitioner: toPositive(murmur2(key)) % n.
		return int32(murmur2(key)&0x7fffffff) % n
	case PartitionerCRC32:
		// librdkafka's rd_kafka_msg_partitioner_consistent: crc32 % n, unsigned.
		return int32(crc32.ChecksumIEEE(key) % uint32(n))
	}
	return -1
}

// ProducerOption is the franz-go partitioner that places keyed records as
// p expects, for cspulse's own producers (gen): franz-go's default, which
// is murmur2, unless p is crc32.
func (p Partitioner) ProducerOption() kgo.Opt {
	if p != PartitionerCRC32 {
		return kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil))
	}
	return kgo.RecordPartitioner(kgo.StickyKeyPartitioner(func(key []byte, n int) int {
		return int(p.Partition(key, int32(n)))
	}))
}

// murmur2 is Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2),
// as franz-go's default partitioner uses it.
func murmur2(b []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(b))
	for len(b) >= 4 {
		k := uint32(b[3])<<24 + uint32(b[2])<<16 + uint32(b[1])<<8 + uint32(b[0])
		b = b[4:]
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// InputChecks are the checks of SPEC §2 a task makes on each decoded
// record before its event reaches the engine or the watermark.
type InputChecks struct {
	// MaxFuture: a ts further ahead of the wall clock is dead-lettered as
	// ts_in_future. 0: no check.
	MaxFuture time.Duration
	// Partitioner and Partitions (the input topics' partition count): a
	// record on another partition than its key's is dead-lettered as
	// wrong_partition. PartitionerNone or Partitions 0: no check.
	Partitioner Partitioner
	Partitions  int32
}

// InputChecksFor returns the checks the config asks for, given the input
// topics' partition count (0 when not known: no co-partitioning check).
func InputChecksFor(cfg *config.Config, partitions int32) (InputChecks, error) {
	p, err := ParsePartitioner(cfg.Kafka.Partitioner)
	if err != nil {
		return InputChecks{}, err
	}
	return InputChecks{MaxFuture: cfg.Time.MaxFuture, Partitioner: p, Partitions: partitions}, nil
}

// futureLimit is the largest ts accepted at wall-clock time now.
func (c *InputChecks) futureLimit(now time.Time) int64 {
	if c.MaxFuture <= 0 {
		return math.MaxInt64
	}
	return now.UnixMilli() + c.MaxFuture.Milliseconds()
}

// watermarkTS is how far the newest accepted ts of a slice may move its
// input's watermark, given the slice's futureLimit: no further than the
// wall clock. A record ahead of the clock but within max_future (a
// producer's clock minutes fast) is counted, but it cannot carry the
// watermark ahead of real time, so one such record never makes later good
// records late (SPEC §2); its own contribution waits, held, until real
// time passes it. With max_future off (0) the ts is taken as it is.
func (c *InputChecks) watermarkTS(newest, limit int64) int64 {
	if c.MaxFuture <= 0 {
		return newest
	}
	return min(newest, limit-c.MaxFuture.Milliseconds())
}

func futureError(ts, limit int64, maxFuture time.Duration) error {
	return &schemas.DecodeError{Reason: schemas.ReasonTSInFuture, Field: "ts",
		Detail: fmt.Sprintf("ts %d (%s) is more than time.max_future (%v) ahead of the wall clock at read time (%s)",
			ts, time.UnixMilli(ts).UTC().Format(time.RFC3339Nano), maxFuture,
			time.UnixMilli(limit).Add(-maxFuture).UTC().Format(time.RFC3339))}
}

func wrongPartitionError(rec *kgo.Record, want int32, c *InputChecks) error {
	return &schemas.DecodeError{Reason: schemas.ReasonWrongPartition,
		Detail: fmt.Sprintf("key %q maps to partition %d of %d under kafka.partitioner=%s, but the record is on partition %d of %s: its producer uses another partitioner (kcat: -X partitioner=murmur2_random)",
			rec.Key, want, c.Partitions, c.Partitioner, rec.Partition, rec.Topic)}
}
