package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	kplain "github.com/twmb/franz-go/pkg/sasl/plain"
	kscram "github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/walrelay/walrelay/internal/tlsfiles"
)

// Tests against the secured listeners of a real broker (see .ci/kafka.sh):
// WALRELAY_TEST_KAFKA_TLS_BROKERS (SSL, client certificate required),
// WALRELAY_TEST_KAFKA_SASL_BROKERS (SASL_SSL: PLAIN, SCRAM-SHA-256/512),
// WALRELAY_TEST_KAFKA_TLS_DIR (ca.pem, client.pem, client-key.pem) and
// WALRELAY_TEST_KAFKA_SASL_USER / _PASSWORD.

// failFast bounds how long a misconfigured connection may take to fail; the
// request timeout of these configs is far longer.
const failFast = 5 * time.Second

// secEnv returns the variable name's value, skipping the test (naming the
// variable) when it is unset.
func secEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set: no secured Kafka listener to test against", name)
	}
	return v
}

func tlsBrokers(t *testing.T) []string {
	return strings.Split(secEnv(t, "WALRELAY_TEST_KAFKA_TLS_BROKERS"), ",")
}

func saslBrokers(t *testing.T) []string {
	return strings.Split(secEnv(t, "WALRELAY_TEST_KAFKA_SASL_BROKERS"), ",")
}

func saslUser(t *testing.T) (user, password string) {
	return secEnv(t, "WALRELAY_TEST_KAFKA_SASL_USER"), secEnv(t, "WALRELAY_TEST_KAFKA_SASL_PASSWORD")
}

// testTLS loads the test CA (withCA; system roots otherwise) and, with
// withCert, the client certificate.
func testTLS(t *testing.T, withCA, withCert bool) *tls.Config {
	t.Helper()
	dir := secEnv(t, "WALRELAY_TEST_KAFKA_TLS_DIR")
	var ca, cert, key string
	if withCA {
		ca = filepath.Join(dir, "ca.pem")
	}
	if withCert {
		cert, key = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	}
	c, err := tlsfiles.Config(ca, cert, key, false)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readerOpts are franz-go options for a test client of a secured listener,
// built independently of the sink's own (Config.kgoOpts).
func readerOpts(brokers []string, tc *tls.Config, mech sasl.Mechanism) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.DialTLSConfig(tc)}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	return opts
}

// secTopic returns a fresh topic name, deleted through opts after the test.
func secTopic(t *testing.T, what string, opts []kgo.Opt) string {
	return tempTopic(t, "sectest."+what, opts...)
}

// roundTrip sends n records over keys 0..2 through a sink with cfg, waits
// for their acks, reads them back through opts and checks that each key's
// records arrived in order with the values sent.
func roundTrip(t *testing.T, cfg Config, opts []kgo.Opt, what string) {
	t.Helper()
	const n = 30
	topic := secTopic(t, what, opts)
	s := startSink(t, cfg)
	a := newAcks(n)
	for i := range n {
		if err := s.Send(context.Background(), testRecord(topic, i%3, i, a)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
	a.wait(t, 30*time.Second)

	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	last := map[string]int{}
	got := 0
	for got < n && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			got++
			i, err := strconv.Atoi(string(r.Value))
			if err != nil || string(r.Key) != "key-"+strconv.Itoa(i%3) {
				t.Errorf("record key %q value %q: not one the test sent", r.Key, r.Value)
				return
			}
			if prev, ok := last[string(r.Key)]; ok && i <= prev {
				t.Errorf("key %s: record %d after %d", r.Key, i, prev)
			}
			last[string(r.Key)] = i
		})
	}
	if got != n {
		t.Fatalf("read back %d of %d records", got, n)
	}
}

// securedConfig is realConfig with a long request timeout, so that a fast
// failure shows it was not waited for.
func securedConfig(brokers []string, tc *tls.Config, s SASL) Config {
	cfg := realConfig(brokers)
	cfg.RequestTimeout = 30 * time.Second
	cfg.TLS, cfg.SASL = tc, s
	return cfg
}

func TestSecurityMutualTLSRoundTrip(t *testing.T) {
	brokers := tlsBrokers(t)
	tc := testTLS(t, true, true)
	roundTrip(t, securedConfig(brokers, tc, SASL{}), readerOpts(brokers, tc, nil), "mtls")
}

func TestSecuritySASLRoundTrip(t *testing.T) {
	brokers := saslBrokers(t)
	user, pass := saslUser(t)
	tc := testTLS(t, true, false)
	for _, c := range []struct {
		mechanism string
		reader    sasl.Mechanism
	}{
		{"PLAIN", kplain.Auth{User: user, Pass: pass}.AsMechanism()},
		{"scram-sha-256", kscram.Auth{User: user, Pass: pass}.AsSha256Mechanism()},
		{"SCRAM-SHA-512", kscram.Auth{User: user, Pass: pass}.AsSha512Mechanism()},
	} {
		t.Run(c.mechanism, func(t *testing.T) {
			cfg := securedConfig(brokers, tc, SASL{Mechanism: c.mechanism, Username: user, Password: pass})
			roundTrip(t, cfg, readerOpts(brokers, tc, c.reader), "sasl")
		})
	}
}

// newFails runs New with cfg and returns its error, failing the test if New
// succeeds or takes failFast or longer.
func newFails(t *testing.T, cfg Config) error {
	t.Helper()
	start := time.Now()
	s, err := New(context.Background(), cfg, testLogger(t))
	took := time.Since(start)
	if err == nil {
		_ = s.Close(context.Background())
		t.Fatal("New succeeded")
	}
	if took >= failFast {
		t.Errorf("New failed after %s, want well under the %s request timeout: %v", took, cfg.RequestTimeout, err)
	}
	t.Logf("New failed after %s: %v", took.Round(time.Millisecond), err)
	return err
}

// wantSecurityError checks that err is a *SecurityError whose text names
// every setting in want.
func wantSecurityError(t *testing.T, err error, want ...string) {
	t.Helper()
	var sec *SecurityError
	if !errors.As(err, &sec) {
		t.Errorf("error %v is not a *SecurityError", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

func TestSecurityWrongPasswordFailsFast(t *testing.T) {
	brokers := saslBrokers(t)
	user, pass := saslUser(t)
	wrong := "wrong-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, mech := range []string{SASLPlain, SASLScramSHA256, SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			err := newFails(t, securedConfig(brokers, testTLS(t, true, false), SASL{Mechanism: mech, Username: user, Password: wrong}))
			wantSecurityError(t, err, "SASL authentication failed", "kafka.sasl.username", "kafka.sasl.password")
			if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), pass) {
				t.Errorf("error %q contains a password", err)
			}
		})
	}
}

func TestSecurityUnknownCA(t *testing.T) {
	brokers := saslBrokers(t)
	user, pass := saslUser(t)
	err := newFails(t, securedConfig(brokers, testTLS(t, false, false), SASL{Mechanism: SASLPlain, Username: user, Password: pass}))
	wantSecurityError(t, err, "unknown authority", "kafka.tls.ca_file")
}

func TestSecurityMutualTLSWithoutClientCertificate(t *testing.T) {
	err := newFails(t, securedConfig(tlsBrokers(t), testTLS(t, true, false), SASL{}))
	wantSecurityError(t, err, "refused the TLS handshake", "requires a client certificate", "kafka.tls.cert_file", "kafka.tls.key_file")
}

func TestSecurityPlaintextClientOnTLSListener(t *testing.T) {
	for name, brokers := range map[string][]string{"ssl": tlsBrokers(t), "sasl_ssl": saslBrokers(t)} {
		t.Run(name, func(t *testing.T) {
			err := newFails(t, securedConfig(brokers, nil, SASL{}))
			wantSecurityError(t, err, "expects TLS", "kafka.tls.enabled: true")
		})
	}
}

func TestSecurityTLSClientOnPlaintextListener(t *testing.T) {
	err := newFails(t, securedConfig(realBrokers(t), testTLS(t, true, false), SASL{}))
	if !strings.Contains(err.Error(), "is the listener plaintext? set kafka.tls.enabled: false") {
		t.Errorf("error %q does not point at kafka.tls.enabled", err)
	}
}

func TestSecurityCheckOverSASL(t *testing.T) {
	brokers := saslBrokers(t)
	user, pass := saslUser(t)
	tc := testTLS(t, true, false)
	for _, mech := range []string{SASLPlain, SASLScramSHA256, SASLScramSHA512} {
		cfg := securedConfig(brokers, tc, SASL{Mechanism: mech, Username: user, Password: pass})
		res := Check(context.Background(), cfg, "walrelay.sectest.check")
		if len(res) != 3 || !strings.Contains(res[2].What, "idempotent writes allowed") {
			t.Errorf("%s: %d findings %+v, want 3, the last one allowing idempotent writes", mech, len(res), res)
		}
		for _, r := range res {
			if !r.OK {
				t.Errorf("%s: Check found %s (fix: %s)", mech, r.What, r.Fix)
			}
		}
	}
	start := time.Now()
	res := Check(context.Background(), securedConfig(brokers, tc, SASL{Mechanism: SASLScramSHA512, Username: user, Password: "not-" + pass}),
		"walrelay.sectest.check")
	if took := time.Since(start); took >= failFast {
		t.Errorf("Check with a wrong password took %s", took)
	}
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].What, "SASL authentication failed") ||
		!strings.Contains(res[0].Fix, "kafka.sasl.password") || strings.Contains(res[0].What+res[0].Fix, "not-"+pass) {
		t.Errorf("Check with a wrong password: %+v", res)
	}
}

func TestSecurityCheckOverMutualTLS(t *testing.T) {
	res := Check(context.Background(), securedConfig(tlsBrokers(t), testTLS(t, true, true), SASL{}), "walrelay.sectest.check")
	for _, r := range res {
		if !r.OK {
			t.Errorf("Check found %s (fix: %s)", r.What, r.Fix)
		}
	}
	res = Check(context.Background(), securedConfig(tlsBrokers(t), testTLS(t, true, false), SASL{}), "walrelay.sectest.check")
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].Fix, "kafka.tls.cert_file") {
		t.Errorf("Check without a client certificate: %+v", res)
	}
}

// TestSecurityTLSWithoutSASLOnSASLListener: with TLS right and SASL missing,
// New and Check both say SASL is missing, not that the listener may be
// plaintext (the TLS handshake succeeded).
func TestSecurityTLSWithoutSASLOnSASLListener(t *testing.T) {
	cfg := securedConfig(saslBrokers(t), testTLS(t, true, false), SASL{})
	err := newFails(t, cfg)
	if !strings.Contains(err.Error(), "TLS handshake succeeded") || !strings.Contains(err.Error(), "is SASL missing? set kafka.sasl.mechanism") ||
		strings.Contains(err.Error(), "plaintext?") {
		t.Errorf("New: %v", err)
	}
	res := Check(context.Background(), cfg, "walrelay.sectest.check")
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].Fix, "is SASL missing? set kafka.sasl.mechanism") ||
		strings.Contains(res[0].Fix, "plaintext?") {
		t.Errorf("Check: %+v", res)
	}
}
