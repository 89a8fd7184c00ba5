package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/broker"
)

// TestEnsureTopicsFreshNames: on a first start with new topic names the
// topics are created and then described; the broker may not show a new
// topic at once, which must not fail the start (issue 16 item 11).
func TestEnsureTopicsFreshNames(t *testing.T) {
	for i := range 3 {
		b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 1})
		if err != nil {
			t.Fatal(err)
		}
		topics := config.Defaults().Topics
		prefix := fmt.Sprintf("fresh%d.", i)
		topics.Sessions, topics.Transfers, topics.Messages = prefix+"sessions", prefix+"transfers", prefix+"messages"
		topics.Evaluations, topics.Orders = prefix+"evaluations", prefix+"orders"
		topics.DeadLetter, topics.Alerts = prefix+"deadletter", prefix+"alerts"
		// As the runner's client: a consumer of the topics, whose metadata
		// it has asked for (and cached) before they exist.
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumerGroup("g"), kgo.ConsumeTopics(topics.Inputs()...))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		n, err := EnsureTopics(ctx, cl, topics, 3)
		cancel()
		cl.Close()
		b.Close()
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if n != 3 {
			t.Fatalf("partitions %d, want 3", n)
		}
	}
}
