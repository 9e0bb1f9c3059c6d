package pipeline

import (
	"testing"
	"time"

	"github.com/walrelay/walrelay/config"
)

// TestSinkConfigNoLinger (audit d4): kafka.linger: 0s reaches the sink as
// no lingering, not as the sink's default for a zero Linger (5ms); another
// linger is passed as it is.
func TestSinkConfigNoLinger(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ linger, want time.Duration }{{0, time.Nanosecond}, {7 * time.Millisecond, 7 * time.Millisecond}} {
		cfg := &config.Config{Kafka: config.Kafka{Brokers: []string{"127.0.0.1:9092"}, Linger: c.linger}}
		sc, err := SinkConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Validate(); err != nil {
			t.Fatal(err)
		}
		if sc.Linger != c.want {
			t.Errorf("kafka.linger %s: the sink lingers %s, want %s", c.linger, sc.Linger, c.want)
		}
	}
}
