package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/cspulse/cspulse/config"
)

// ClientOptions turns the connection part of the config (brokers, SASL,
// TLS) into franz-go options; callers add consumer or producer options.
func ClientOptions(k config.Kafka, brokers []string) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ClientID(k.ClientID)}
	switch k.SASL.Mechanism {
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: k.SASL.User, Pass: k.SASL.Password.Reveal()}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: k.SASL.User, Pass: k.SASL.Password.Reveal()}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: k.SASL.User, Pass: k.SASL.Password.Reveal()}.AsSha512Mechanism()))
	}
	if k.TLS.Enabled {
		tc, err := k.TLS.Build("kafka.tls")
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

// EnsureTopics creates the input, dead-letter and alert topics that are
// missing, and checks that the five input topics have one partition count:
// partition p of every input topic must hold the same shops (SPEC §1), so
// one task can own a shop's whole history.
func EnsureTopics(ctx context.Context, cl *kgo.Client, topics config.Topics, partitions int) (int32, error) {
	adm := kadm.NewClient(cl)
	all := append(topics.Inputs(), topics.DeadLetter, topics.Alerts)
	resp, err := adm.CreateTopics(ctx, int32(partitions), -1, nil, all...)
	if err != nil {
		return 0, fmt.Errorf("create topics: %w", err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return 0, fmt.Errorf("create topic %s: %w", r.Topic, r.Err)
		}
	}
	details, err := describeCreated(ctx, cl, topics.Inputs())
	if err != nil {
		return 0, err
	}
	var count int32 = -1
	for _, name := range topics.Inputs() {
		n := details[name]
		if count >= 0 && n != count {
			return 0, fmt.Errorf("input topics must have one partition count: %s has %d, %s has %d",
				topics.Inputs()[0], count, name, n)
		}
		count = n
	}
	return count, nil
}

// topicsVisibleWithin bounds the wait for newly created topics to show in
// the broker's metadata.
const topicsVisibleWithin = 30 * time.Second

// describeCreated returns the partition count of each of names, waiting
// (bounded) until the broker shows them all: right after CreateTopics a
// broker (or the client's metadata cache, which a consumer of these topics
// filled before they existed) may not know them yet. It asks the broker
// itself, not the cache.
func describeCreated(ctx context.Context, cl *kgo.Client, names []string) (map[string]int32, error) {
	deadline := time.Now().Add(topicsVisibleWithin)
	wait := 50 * time.Millisecond
	for {
		req := kmsg.NewPtrMetadataRequest()
		for _, name := range names {
			t := kmsg.NewMetadataRequestTopic()
			t.Topic = kmsg.StringPtr(name)
			req.Topics = append(req.Topics, t)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, fmt.Errorf("describe input topics: %w", err)
		}
		counts := map[string]int32{}
		var missing error
		for _, t := range resp.Topics {
			var name string
			if t.Topic != nil {
				name = *t.Topic
			}
			if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
				missing = fmt.Errorf("describe topic %s: %w", name, err)
				if !errors.Is(err, kerr.UnknownTopicOrPartition) && !errors.Is(err, kerr.LeaderNotAvailable) {
					return nil, missing
				}
				continue
			}
			counts[name] = int32(len(t.Partitions))
		}
		if missing == nil {
			for _, name := range names {
				if counts[name] == 0 {
					missing = fmt.Errorf("describe topic %s: no partitions", name)
				}
			}
		}
		if missing == nil {
			return counts, nil
		}
		if time.Now().Add(wait).After(deadline) {
			return nil, fmt.Errorf("%w (created, but not visible after %v)", missing, topicsVisibleWithin)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", missing, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
