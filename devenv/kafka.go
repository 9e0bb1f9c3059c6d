package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Kafka is an in-process Kafka-protocol broker (franz-go's kfake) with one
// node on 127.0.0.1, automatic topic creation and a data directory, so it
// can be stopped and started again on the same port with its topics,
// records and committed offsets. Methods are safe for concurrent use.
type Kafka struct {
	mu      sync.Mutex
	opts    []kfake.Opt
	dir     string
	port    int
	cluster *kfake.Cluster // nil while stopped
	closed  bool
}

// StartKafka starts a one-node kfake cluster. opts are appended to the
// defaults (kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
// kfake.DefaultNumPartitions(1) and a temporary kfake.DataDir), so callers
// can seed topics (kfake.SeedTopics) or set broker configs. ctx only bounds
// the start; the broker runs until Close.
func StartKafka(ctx context.Context, opts ...kfake.Opt) (*Kafka, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("devenv: start kafka: %w", err)
	}
	dir, err := os.MkdirTemp("", "walrelay-kfake-")
	if err != nil {
		return nil, fmt.Errorf("devenv: start kafka: create data dir: %w", err)
	}
	k := &Kafka{dir: dir}
	k.opts = append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
		kfake.DataDir(dir),
	}, opts...)
	if err := k.startLocked(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return k, nil
}

// startLocked creates the cluster, on the remembered port after a Stop.
func (k *Kafka) startLocked() error {
	opts := k.opts
	if k.port != 0 {
		opts = append(append([]kfake.Opt(nil), opts...), kfake.Ports(k.port))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("devenv: start kafka (kfake, port %d): %w", k.port, err)
	}
	k.cluster = c
	if k.port == 0 {
		port, err := listenPort(c)
		if err != nil {
			c.Close()
			return err
		}
		k.port = port
	}
	return nil
}

// listenPort returns the port of the cluster's only broker.
func listenPort(c *kfake.Cluster) (int, error) {
	addrs := c.ListenAddrs()
	if len(addrs) != 1 {
		return 0, fmt.Errorf("devenv: kafka listens on %v, want exactly one address", addrs)
	}
	_, port, err := net.SplitHostPort(addrs[0])
	if err != nil {
		return 0, fmt.Errorf("devenv: kafka listen address %q: %w", addrs[0], err)
	}
	return strconv.Atoi(port)
}

// Brokers returns the bootstrap addresses (host:port). They stay the same
// across Stop and Start.
func (k *Kafka) Brokers() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return []string{fmt.Sprintf("127.0.0.1:%d", k.port)}
}

// Cluster returns the running kfake cluster for fault injection
// (Cluster().Fault, ControlKey, ...), or nil while stopped. A Start after a
// Stop creates a new *kfake.Cluster: fetch it again.
func (k *Kafka) Cluster() *kfake.Cluster {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cluster
}

// Stop shuts the broker down, persisting its state; clients see connection
// refused until Start. Stopping a stopped broker is a no-op.
func (k *Kafka) Stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cluster != nil {
		k.cluster.Close()
		k.cluster = nil
	}
}

// Start starts a stopped broker again on the same port with the state it
// had at Stop. Starting a running broker is a no-op.
func (k *Kafka) Start() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return errors.New("devenv: start kafka: broker is closed")
	}
	if k.cluster != nil {
		return nil
	}
	return k.startLocked()
}

// Close shuts the broker down and removes its data directory. It is safe to
// call more than once.
func (k *Kafka) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return
	}
	k.closed = true
	if k.cluster != nil {
		k.cluster.Close()
		k.cluster = nil
	}
	_ = os.RemoveAll(k.dir)
}
