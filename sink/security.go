package sink

import (
	"fmt"
	"time"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kgo"
	kplain "github.com/twmb/franz-go/pkg/sasl/plain"
	kscram "github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms of SASL.Mechanism (Validate lower-cases it).
const (
	SASLPlain       = "plain"
	SASLScramSHA256 = "scram-sha-256"
	SASLScramSHA512 = "scram-sha-512"
)

// SASL holds the credentials the sink authenticates with. Password is never
// logged nor put in an error.
type SASL struct {
	// Mechanism is "" (no SASL, default), SASLPlain, SASLScramSHA256 or
	// SASLScramSHA512, in any case.
	Mechanism string
	Username  string
	Password  string
}

// validate rejects an unknown mechanism and missing credentials, naming the
// config keys (kafka.sasl.*). Called by Config.Validate after lower-casing.
func (s SASL) validate() []error {
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.Password != "" {
			return []error{fmt.Errorf("kafka: SASL credentials without a mechanism: set kafka.sasl.mechanism to plain, scram-sha-256 or scram-sha-512")}
		}
		return nil
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
	default:
		return []error{fmt.Errorf("kafka: unknown SASL mechanism %q (kafka.sasl.mechanism): use plain, scram-sha-256 or scram-sha-512", s.Mechanism)}
	}
	var errs []error
	if s.Username == "" {
		errs = append(errs, fmt.Errorf("kafka: SASL %s needs a user name (kafka.sasl.username)", s.Mechanism))
	}
	if s.Password == "" {
		errs = append(errs, fmt.Errorf("kafka: SASL %s needs a password (kafka.sasl.password or WALRELAY_KAFKA_SASL_PASSWORD)", s.Mechanism))
	}
	return errs
}

// kafkaGo returns the kafka-go mechanism for s, nil when s has none. s must
// be valid. The error (SASLprep rejecting the user name or password) does
// not contain the password.
func (s SASL) kafkaGo() (sasl.Mechanism, error) {
	var (
		m   sasl.Mechanism
		err error
	)
	switch s.Mechanism {
	case "":
		return nil, nil
	case SASLPlain:
		return plain.Mechanism{Username: s.Username, Password: s.Password}, nil
	case SASLScramSHA256:
		m, err = scram.Mechanism(scram.SHA256, s.Username, s.Password)
	case SASLScramSHA512:
		m, err = scram.Mechanism(scram.SHA512, s.Username, s.Password)
	default:
		return nil, fmt.Errorf("kafka: unknown SASL mechanism %q (kafka.sasl.mechanism)", s.Mechanism)
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: SASL %s: user name or password rejected by SASLprep (kafka.sasl.username, kafka.sasl.password): %v",
			s.Mechanism, redact(err.Error(), s.Password))
	}
	return m, nil
}

// kgoDialTimeout bounds the dial and TLS handshake of a franz-go connection
// (franz-go's default dial timeout).
const kgoDialTimeout = 10 * time.Second

// kgoOpts returns the franz-go options for cfg's TLS and SASL. With TLS the
// dialer runs the handshake (connWatch.dialer, recording on a watch of its
// own; Check passes a Dialer recording on the watch it reads).
func (c *Config) kgoOpts() []kgo.Opt {
	var opts []kgo.Opt
	if c.TLS != nil {
		opts = append(opts, kgo.Dialer(new(connWatch).dialer(c.TLS.Clone(), kgoDialTimeout)))
	}
	s := c.SASL
	switch s.Mechanism {
	case SASLPlain:
		opts = append(opts, kgo.SASL(kplain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()))
	case SASLScramSHA256:
		opts = append(opts, kgo.SASL(kscram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()))
	case SASLScramSHA512:
		opts = append(opts, kgo.SASL(kscram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()))
	}
	return opts
}
