// Package broker runs an in-process Kafka-protocol broker (franz-go's
// kfake) for the demo, tests and `cspulse broker`: the real protocol, in the
// process, with no installation.
package broker

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is an in-process Kafka-protocol broker (franz-go's kfake): the
// embedded default for demos and tests. It speaks the real protocol, so
// kcat and any other client can produce to it and read from it.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
}

// Options configures Start.
type Options struct {
	Listen     string   // host:port; port 0 picks a free one
	DataDir    string   // persist the log here (reloaded on restart); empty = memory only
	Topics     []string // created at start when missing
	Partitions int
}

// Start starts a single-node broker listening on opts.Listen.
func Start(opts Options) (*Broker, error) {
	host, portStr, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker listen address %q: %w", opts.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("broker listen port %q: %w", portStr, err)
	}
	if opts.Partitions < 1 {
		opts.Partitions = 1
	}
	// kfake listens on 127.0.0.1 unless told otherwise; honour the host asked for.
	listen := func(network, _ string) (net.Listener, error) {
		return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(listen),
		kfake.DefaultNumPartitions(opts.Partitions),
	}
	if len(opts.Topics) > 0 {
		kopts = append(kopts, kfake.SeedTopics(int32(opts.Partitions), opts.Topics...))
	}
	if opts.DataDir != "" {
		kopts = append(kopts, kfake.DataDir(opts.DataDir))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s: %w", opts.Listen, err)
	}
	addrs := c.ListenAddrs()
	b := &Broker{cluster: c, addr: opts.Listen}
	if len(addrs) > 0 {
		b.addr = addrs[0]
	}
	return b, nil
}

// Addr is the host:port the broker listens on.
func (b *Broker) Addr() string { return b.addr }

// Cluster exposes kfake for fault injection in tests.
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Close stops the broker; with a data dir its log survives for the next start.
func (b *Broker) Close() { b.cluster.Close() }
