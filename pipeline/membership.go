package pipeline

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cspulse/cspulse/config"
)

// MembershipOptions returns the consumer group's membership options:
// kgo.InstanceID(kafka.instance_id) for static membership (KIP-345), or
// nothing for dynamic membership when the key is empty.
//
// With an instance id a member does not leave the group when it closes; if
// it comes back with the same id within kafka.session_timeout (a pod
// restart of a StatefulSet), the coordinator hands it its old partitions
// without rebalancing the others. The id belongs on the group consumer
// only: ClientOptions also builds the changelog reader and producers,
// which join no group.
func MembershipOptions(k config.Kafka) []kgo.Opt {
	if k.InstanceID == "" {
		return nil
	}
	return []kgo.Opt{kgo.InstanceID(k.InstanceID)}
}
