package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
)

func TestMembershipOptionsEmptyIsDynamic(t *testing.T) {
	if opts := MembershipOptions(config.Kafka{}); len(opts) != 0 {
		t.Fatalf("empty kafka.instance_id gave %d options, want none (dynamic membership)", len(opts))
	}
}

// TestStaticMembership joins a group on a kfake broker with and without
// kafka.instance_id, and checks what the coordinator sees: a static member
// carries its id and stays in the group after it closes (a restart within
// the session timeout rejoins without a rebalance); a dynamic one leaves.
func TestStaticMembership(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "in"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admCl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)

	// join starts a group member and waits until it has partitions.
	join := func(group, instanceID string) *kgo.Client {
		t.Helper()
		k := config.Kafka{ClientID: "test", InstanceID: instanceID}
		opts, err := ClientOptions(k, cluster.ListenAddrs())
		if err != nil {
			t.Fatal(err)
		}
		assigned := make(chan struct{}, 1)
		opts = append(opts, MembershipOptions(k)...)
		opts = append(opts, kgo.ConsumerGroup(group), kgo.ConsumeTopics("in"),
			kgo.SessionTimeout(30*time.Second),
			kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
				select {
				case assigned <- struct{}{}:
				default:
				}
			}))
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for ctx.Err() == nil && !cl.PollFetches(ctx).IsClientClosed() {
			}
		}()
		select {
		case <-assigned:
		case <-ctx.Done():
			t.Fatalf("group %s: no assignment", group)
		}
		return cl
	}
	members := func(group string) []kadm.DescribedGroupMember {
		t.Helper()
		described, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		return described[group].Members
	}

	static := join("static", "cspulse-0")
	m := members("static")
	if len(m) != 1 || m[0].InstanceID == nil || *m[0].InstanceID != "cspulse-0" {
		t.Fatalf("static group members = %+v, want one with instance id cspulse-0", m)
	}
	static.Close()
	if m := members("static"); len(m) != 1 {
		t.Fatalf("after close the static member is gone (%d members); want it kept until the session timeout", len(m))
	}
	again := join("static", "cspulse-0")
	defer again.Close()
	if m := members("static"); len(m) != 1 || *m[0].InstanceID != "cspulse-0" {
		t.Fatalf("after a restart with the same id: %+v, want the one member cspulse-0", m)
	}

	dynamic := join("dynamic", "")
	if m := members("dynamic"); len(m) != 1 || m[0].InstanceID != nil {
		t.Fatalf("dynamic group members = %+v, want one without an instance id", m)
	}
	dynamic.Close()
	if m := members("dynamic"); len(m) != 0 {
		t.Fatalf("after close the dynamic member is still there: %+v", m)
	}
}
