package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/pipeline"
)

// newBenchConsumeCmd is the baseline of `make bench`: a bare franz-go
// consumer reading the same input the pipeline reads, doing nothing with
// it. The pipeline's rate divided by this one is the cost of cspulse.
func newBenchConsumeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "bench-consume",
		Short:  "Consume every input record once with a bare franz-go client and print the rate",
		Hidden: true,
	}
	load := configFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		l, err := load()
		if err != nil {
			return err
		}
		if err := l.Config.RequireKafka(); err != nil {
			return err
		}
		opts, err := pipeline.ClientOptions(l.Config.Kafka, l.Config.Kafka.Brokers)
		if err != nil {
			return err
		}
		n, elapsed, err := consumeAll(cmd.Context(), opts, l.Config.Topics.Inputs())
		if err != nil {
			return err
		}
		fmt.Printf("bare consume: %d records in %.3fs = %.0f records/s\n", n, elapsed.Seconds(), float64(n)/elapsed.Seconds())
		return nil
	}
	return cmd
}

// consumeAll reads topics from the start up to their end offsets as of now.
func consumeAll(ctx context.Context, opts []kgo.Opt, topics []string) (int64, time.Duration, error) {
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		return 0, 0, fmt.Errorf("list end offsets: %w", err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	start := time.Now()
	var got int64
	for got < want {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return got, time.Since(start), err
		}
		fetches.EachPartition(func(p kgo.FetchTopicPartition) { got += int64(len(p.Records)) })
	}
	return got, time.Since(start), nil
}
