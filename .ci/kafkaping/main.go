// Command kafkaping waits until a Kafka broker answers a real metadata
// request listing at least one broker (a KRaft broker accepts connections
// before it is unfenced and usable). Used by .ci/kafka.sh:
//
//	go run ./.ci/kafkaping -brokers 127.0.0.1:9092 -timeout 60s
//
// It lives under .ci/ so `go build ./...` and `go vet ./...` skip it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "comma-separated bootstrap brokers")
	timeout := flag.Duration("timeout", 60*time.Second, "how long to wait")
	minBrokers := flag.Int("min-brokers", 1, "how many brokers the metadata must list")
	flag.Parse()
	if err := wait(strings.Split(*brokers, ","), *timeout, *minBrokers); err != nil {
		fmt.Fprintln(os.Stderr, "kafkaping:", err)
		os.Exit(1)
	}
}

// wait polls a metadata request until it lists at least min brokers or
// timeout passes.
func wait(brokers []string, timeout time.Duration, min int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var lastErr error
	for {
		req := kmsg.NewPtrMetadataRequest()
		resp, err := req.RequestWith(ctx, cl)
		switch {
		case err != nil:
			lastErr = err
		case len(resp.Brokers) < min:
			lastErr = fmt.Errorf("metadata lists %d broker(s), want %d", len(resp.Brokers), min)
		default:
			fmt.Printf("kafka up: cluster %s, %d broker(s), controller %d\n",
				deref(resp.ClusterID), len(resp.Brokers), resp.ControllerID)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no usable metadata from %v within %s: %w", brokers, timeout, lastErr)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "?"
	}
	return *s
}
