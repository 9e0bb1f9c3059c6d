package sink

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// headersProduceVersion is the first Produce version that carries record
// batches (message format v2), the only format with record headers: both
// came with Kafka 0.11. A broker without it takes walrelay's uncompressed
// batches as corrupt (CRC error) and stores compressed ones without their
// headers (no ce_id, no ce_* attributes, no key-change headers).
const headersProduceVersion = 3

// supportedKafka is what the errors and README say walrelay needs.
const supportedKafka = "walrelay needs Kafka 0.11 or later (tested with 1.1 to 4.4)"

// BrokerVersionError is New's error (and Check's finding) when a broker
// cannot store record headers: it is older than Kafka 0.11. Restarting
// cannot fix it; upgrading the brokers does.
type BrokerVersionError struct {
	Broker  string // host:port of the broker, as the cluster's metadata names it
	Produce int16  // the highest Produce version it answers, -1 for none
	Release string // the Kafka release its API versions match, "" when unknown
}

// Problem is the first half of Error: what the broker answered.
func (e *BrokerVersionError) Problem() string {
	like := ""
	if e.Release != "" {
		like = " (the API versions of Kafka " + e.Release + ")"
	}
	answers := "answers Produce up to v" + strconv.Itoa(int(e.Produce))
	if e.Produce < 0 {
		answers = "offers no Produce request"
	}
	return fmt.Sprintf("kafka: the broker at %s %s%s: it is older than Kafka 0.11 and cannot store record headers, "+
		"which carry every event's ce_id (consumers drop duplicates by it), its ce_* attributes and the key-change headers", e.Broker, answers, like)
}

// Fix is the second half of Error: what to do.
func (e *BrokerVersionError) Fix() string {
	return "upgrade the brokers: " + supportedKafka
}

func (e *BrokerVersionError) Error() string { return e.Problem() + "; " + e.Fix() }

// brokerAPIs is one broker's answer to ApiVersions.
type brokerAPIs struct {
	addr    string
	produce int16  // highest Produce version, -1 when not offered
	release string // releaseOf the answer
}

// fromKeys summarises the API keys a broker at addr answered.
func fromKeys(addr string, keys []kmsg.ApiVersionsResponseApiKey) brokerAPIs {
	b := brokerAPIs{addr: addr, produce: -1}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ApiKeys = keys
	for _, k := range keys {
		if k.ApiKey == kmsg.Produce.Int16() {
			b.produce = k.MaxVersion
		}
	}
	b.release = releaseOf(kversion.FromApiVersionsResponse(resp).VersionGuess())
	return b
}

// releaseOf turns franz-go's guess of a release into "0.10.2" or "4.4 or
// later"; "" when the versions match no release (a custom build, a
// fake broker, a release between two known ones).
func releaseOf(guess string) string {
	switch {
	case strings.HasPrefix(guess, "v"):
		return guess[1:]
	case strings.HasPrefix(guess, "at least v"):
		return strings.TrimPrefix(guess, "at least v") + " or later"
	}
	return ""
}

// tooOld returns the broker's *BrokerVersionError, or nil when it takes
// record headers.
func (b brokerAPIs) tooOld() error {
	if b.produce >= headersProduceVersion {
		return nil
	}
	return &BrokerVersionError{Broker: b.addr, Produce: b.produce, Release: b.release}
}

// summary is a short description for check's and the log's kafka line,
// e.g. "Produce v13, like Kafka 4.4 or later".
func (b brokerAPIs) summary() string {
	if b.release == "" {
		return fmt.Sprintf("Produce v%d", b.produce)
	}
	return fmt.Sprintf("Produce v%d, like Kafka %s", b.produce, b.release)
}

// requireHeaders asks every broker of the cluster's metadata for its API
// versions (kafka-go's ApiVersions, on a client of its own that is closed
// after) and fails with a *BrokerVersionError when one cannot store record
// headers. A broker that does not answer within the connection setup
// timeout (5s at most) is logged and skipped: New reached the cluster
// already, and the writers report a broker they cannot reach.
// Called by New after ping.
func (s *Sink) requireHeaders(ctx context.Context) error {
	ref, err := s.cluster.acquire(ctx)
	if err != nil {
		return fmt.Errorf("kafka: cannot reach brokers %v: %w", s.cfg.Brokers, err)
	}
	mctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	md, err := ref.client.Metadata(mctx, &kafka.MetadataRequest{Topics: []string{}}) // the Transport's cache
	cancel()
	s.cluster.release(ref, false)
	if err != nil {
		return fmt.Errorf("kafka: cannot list the brokers of %v: %w; check that the brokers are running", s.cfg.Brokers, err)
	}
	probe := s.cluster.newClient()
	defer probe.transport.CloseIdleConnections()
	answers, errs := askVersions(ctx, probe.client, md.Brokers, s.cluster.setupTimeout())
	var lowest *brokerAPIs
	for i, b := range md.Brokers {
		if errs[i] != nil {
			s.log.Warn().Err(errs[i]).Str("broker", brokerAddr(b)).
				Msg("kafka: the broker did not tell its API versions; " + supportedKafka)
			continue
		}
		if err := answers[i].tooOld(); err != nil {
			return err
		}
		if lowest == nil || answers[i].produce < lowest.produce {
			lowest = &answers[i]
		}
	}
	if lowest != nil {
		s.log.Info().Int("brokers", len(md.Brokers)).Str("lowest", lowest.addr+": "+lowest.summary()).
			Msg("kafka: the brokers take record headers (Kafka 0.11 or later)")
	}
	return nil
}

// askVersions sends ApiVersions to every broker at once, each bounded by
// timeout and ctx (a broker that is down costs New no more than timeout);
// answers[i] and errs[i] are broker i's.
func askVersions(ctx context.Context, cl *kafka.Client, brokers []kafka.Broker, timeout time.Duration) ([]brokerAPIs, []error) {
	answers := make([]brokerAPIs, len(brokers))
	errs := make([]error, len(brokers))
	var wg sync.WaitGroup
	for i, b := range brokers {
		wg.Go(func() {
			addr := brokerAddr(b)
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			resp, err := cl.ApiVersions(ctx, &kafka.ApiVersionsRequest{Addr: kafka.TCP(addr)})
			if err == nil {
				err = resp.Error
			}
			if err != nil {
				errs[i] = err
				return
			}
			answers[i] = fromKeys(addr, kafkaGoKeys(resp.ApiKeys))
		})
	}
	wg.Wait()
	return answers, errs
}

// kafkaGoKeys converts kafka-go's ApiVersions keys to franz-go's.
func kafkaGoKeys(keys []kafka.ApiVersionsResponseApiKey) []kmsg.ApiVersionsResponseApiKey {
	out := make([]kmsg.ApiVersionsResponseApiKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, kmsg.ApiVersionsResponseApiKey{ApiKey: int16(k.ApiKey),
			MinVersion: int16(k.MinVersion), MaxVersion: int16(k.MaxVersion)})
	}
	return out
}

// brokerAddr is b's host:port.
func brokerAddr(b kafka.Broker) string { return net.JoinHostPort(b.Host, strconv.Itoa(b.Port)) }
