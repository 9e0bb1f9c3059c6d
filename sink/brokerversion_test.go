package sink

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestNewRefusesBrokerBeforeKafka011: a broker older than Kafka 0.11 cannot
// store record headers (no ce_id), so New refuses it whatever the
// idempotence and compression settings, with an error that names what the
// broker answers and the Kafka version walrelay needs; not a producer-id
// or ACL error (the audit saw "grant IDEMPOTENT_WRITE"), and not a
// silent start that writes records without headers.
func TestNewRefusesBrokerBeforeKafka011(t *testing.T) {
	t.Parallel()
	c := newFake(t, kfake.MaxVersions(kversion.V0_10_2()))
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"idempotence unset", func(*Config) {}},
		{"idempotence off", func(c *Config) { c.Idempotence = IdempotenceOff }},
		{"gzip", func(c *Config) { c.Compression = "gzip" }},
	} {
		cfg := fastConfig(c.ListenAddrs())
		tc.set(&cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := New(ctx, cfg, testLogger(t))
		cancel()
		if err == nil {
			_ = s.Close(context.Background())
			t.Errorf("%s: New accepted a Kafka 0.10.2 broker", tc.name)
			continue
		}
		var old *BrokerVersionError
		if !errors.As(err, &old) || old.Produce != 2 {
			t.Errorf("%s: New: %v, want a *BrokerVersionError with Produce v2", tc.name, err)
			continue
		}
		for _, want := range []string{"the broker at " + c.ListenAddrs()[0], "answers Produce up to v2",
			"older than Kafka 0.11", "record headers", "upgrade the brokers", "needs Kafka 0.11 or later"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: New: %v\nwant it to say %q", tc.name, err, want)
			}
		}
	}
}

// TestCheckRefusesBrokerBeforeKafka011: `walrelay check` fails on a broker
// older than Kafka 0.11 with the same problem and fix as New, and leaves
// out the producer-id finding, whose fix (an ACL grant) cannot help there.
func TestCheckRefusesBrokerBeforeKafka011(t *testing.T) {
	t.Parallel()
	c := newFake(t, kfake.MaxVersions(kversion.V0_10_2()))
	for _, cfgFor := range []func() Config{
		func() Config { return fastConfig(c.ListenAddrs()) },
		func() Config { cfg := fastConfig(c.ListenAddrs()); cfg.Idempotence = IdempotenceOff; return cfg },
		func() Config { cfg := fastConfig(c.ListenAddrs()); cfg.Compression = "gzip"; return cfg },
	} {
		cfg := cfgFor()
		res := Check(context.Background(), cfg, "probe")
		var failed int
		for _, r := range res {
			if r.OK || r.Warn {
				if strings.Contains(r.What, "idempoten") {
					t.Errorf("idempotence %v, compression %q: %+v next to a too-old broker", cfg.Idempotence, cfg.Compression, r)
				}
				continue
			}
			failed++
			if !strings.Contains(r.What, "answers Produce up to v2") || !strings.Contains(r.What, "older than Kafka 0.11") ||
				!strings.Contains(r.Fix, "upgrade the brokers: walrelay needs Kafka 0.11 or later") {
				t.Errorf("idempotence %v, compression %q: finding %+v", cfg.Idempotence, cfg.Compression, r)
			}
		}
		if failed != 1 {
			t.Errorf("idempotence %v, compression %q: %d failed findings, want 1: %+v", cfg.Idempotence, cfg.Compression, failed, res)
		}
	}
}

// TestBrokerVersionsFromKafka011: brokers that take record headers pass
// New and Check, and check's first line says what they answer.
func TestBrokerVersionsFromKafka011(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]*kversion.Versions{"0.11": kversion.V0_11_0(), "1.1": kversion.V1_1_0(), "kfake's latest": nil} {
		var opts []kfake.Opt
		if v != nil {
			opts = append(opts, kfake.MaxVersions(v))
		}
		c := newFake(t, opts...)
		cfg := fastConfig(c.ListenAddrs())
		cfg.Idempotence = IdempotenceOff
		res := Check(context.Background(), cfg, "probe")
		for _, r := range res {
			if !r.OK {
				t.Errorf("%v: %+v", name, r)
			}
		}
		if len(res) == 0 || !strings.Contains(res[0].What, "broker(s) answer") || !strings.Contains(res[0].What, ", Produce v") {
			t.Errorf("%v: first finding %+v, want the brokers and their Produce version", name, res)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := New(ctx, cfg, testLogger(t))
		cancel()
		if err != nil {
			t.Errorf("%v: New: %v", name, err)
			continue
		}
		_ = s.Close(context.Background())
	}
}

// TestAskVersionsSkipsDeadBroker: a broker of the metadata that accepts
// connections and never answers (a hung broker) costs New's version probe
// at most its timeout, not the request timeout, and does not stop the
// answers of the others.
func TestAskVersionsSkipsDeadBroker(t *testing.T) {
	t.Parallel()
	c := newFake(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // silent until the test ends
		}
	}()
	dead := ln.Addr().(*net.TCPAddr)
	host, port, _ := net.SplitHostPort(c.ListenAddrs()[0])
	live, _ := strconv.Atoi(port)
	cl := newCluster(&Config{Brokers: c.ListenAddrs(), RequestTimeout: 10 * time.Second, MaxInFlightRequests: 1}, nil)
	defer cl.close()
	start := time.Now()
	answers, errs := askVersions(context.Background(), cl.cur.client,
		[]kafka.Broker{{Host: host, Port: live}, {Host: "127.0.0.1", Port: dead.Port}}, time.Second)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("askVersions took %v with a 1s timeout", d)
	}
	if errs[0] != nil || answers[0].produce < headersProduceVersion || answers[0].tooOld() != nil {
		t.Errorf("live broker: %+v, %v", answers[0], errs[0])
	}
	if errs[1] == nil {
		t.Errorf("dead broker answered: %+v", answers[1])
	}
}
