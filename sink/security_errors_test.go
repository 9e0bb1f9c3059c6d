package sink

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/walrelay/walrelay/internal/testenv"
)

func TestValidateSASL(t *testing.T) {
	t.Parallel()
	ok := Config{Brokers: []string{"a:1"}, SASL: SASL{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "secretpw"}}
	if err := ok.Validate(); err != nil || ok.SASL.Mechanism != SASLScramSHA512 {
		t.Fatalf("Validate: %v, mechanism %q, want scram-sha-512", err, ok.SASL.Mechanism)
	}
	for _, c := range []struct {
		name string
		sasl SASL
		want []string
	}{
		{"unknown mechanism", SASL{Mechanism: "gssapi", Username: "u", Password: "secretpw"}, []string{"kafka.sasl.mechanism", `"gssapi"`}},
		{"no user", SASL{Mechanism: "plain", Password: "secretpw"}, []string{"kafka.sasl.username"}},
		{"no password", SASL{Mechanism: "scram-sha-256", Username: "u"}, []string{"kafka.sasl.password"}},
		{"nothing", SASL{Mechanism: "plain"}, []string{"kafka.sasl.username", "kafka.sasl.password"}},
		{"no mechanism", SASL{Username: "u", Password: "secretpw"}, []string{"kafka.sasl.mechanism"}},
	} {
		cfg := Config{Brokers: []string{"a:1"}, SASL: c.sasl}
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%s: %q leaks the password", c.name, err)
		}
	}
}

func TestAsSecurityError(t *testing.T) {
	t.Parallel()
	withCert := &tls.Config{Certificates: []tls.Certificate{{}}, RootCAs: x509.NewCertPool()}
	remote := func(alert string) error {
		return fmt.Errorf("kafka.(*Client).Metadata: %w", &net.OpError{Op: "remote error", Err: errors.New(alert)})
	}
	cases := []struct {
		name string
		err  error
		cfg  Config
		want []string // "" = not a security error
	}{
		{"kafka-go SASL", fmt.Errorf("x: %w: bad", kafka.SASLAuthenticationFailed), Config{SASL: SASL{SASLPlain, "app", "secretpw"}},
			[]string{`user "app" (plain)`, "kafka.sasl.username", "kafka.sasl.password"}},
		{"franz-go SASL", kerr.SaslAuthenticationFailed, Config{SASL: SASL{SASLScramSHA256, "app", "secretpw"}},
			[]string{"SASL authentication failed", "kafka.sasl.password"}},
		{"mechanism", kafka.UnsupportedSASLMechanism, Config{SASL: SASL{SASLScramSHA512, "app", "secretpw"}}, []string{"scram-sha-512", "kafka.sasl.mechanism"}},
		{"SASL on a non-SASL listener", kerr.IllegalSaslState, Config{}, []string{"remove kafka.sasl"}},
		{"system roots", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, Config{TLS: &tls.Config{}},
			[]string{"unknown authority", "set kafka.tls.ca_file"}},
		{"wrong CA file", x509.UnknownAuthorityError{}, Config{TLS: withCert}, []string{"kafka.tls.ca_file does not hold"}},
		{"host name", x509.HostnameError{Host: "kafka-0"}, Config{TLS: &tls.Config{}}, []string{"not valid for kafka-0", "kafka.brokers"}},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, Config{TLS: &tls.Config{}}, []string{"renew"}},
		{"no client certificate", remote("tls: certificate required"), Config{TLS: &tls.Config{}},
			[]string{"refused the TLS handshake", "kafka.tls.cert_file and kafka.tls.key_file"}},
		{"client certificate refused", remote("tls: bad certificate"), Config{TLS: withCert}, []string{"does not accept the client certificate"}},
		{"other alert", remote("tls: protocol version not supported"), Config{TLS: &tls.Config{}}, []string{"kafka.tls.*"}},
		{"plaintext listener", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, Config{TLS: &tls.Config{}},
			[]string{"set kafka.tls.enabled: false"}},
		{"TLS listener", fmt.Errorf("%w: broker appears to be expecting TLS", io.ErrUnexpectedEOF), Config{}, []string{"set kafka.tls.enabled: true"}},
		{"EOF", io.EOF, Config{}, nil},
		{"leader", kafka.NotLeaderForPartition, Config{}, nil},
		{"timeout", context.DeadlineExceeded, Config{TLS: &tls.Config{}}, nil},
	}
	for _, c := range cases {
		got := asSecurityError(c.err, &c.cfg)
		var sec *SecurityError
		isSec := errors.As(got, &sec)
		if c.want == nil {
			if isSec || got != c.err {
				t.Errorf("%s: %v became %v", c.name, c.err, got)
			}
			continue
		}
		if !isSec {
			t.Errorf("%s: %v is not a *SecurityError", c.name, got)
			continue
		}
		if retriable(got) || !errors.Is(got, c.err) {
			t.Errorf("%s: retriable %v, wraps the cause %v", c.name, retriable(got), errors.Is(got, c.err))
		}
		for _, w := range c.want {
			if !strings.Contains(got.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, got, w)
			}
		}
		if again := asSecurityError(got, &c.cfg); again != got {
			t.Errorf("%s: wrapped twice", c.name)
		}
	}
}

func TestSecurityErrorRedactsPassword(t *testing.T) {
	t.Parallel()
	cfg := Config{SASL: SASL{SASLPlain, "app", "hunter2"}}
	err := asSecurityError(fmt.Errorf("%w: bad password hunter2", kafka.SASLAuthenticationFailed), &cfg)
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "xxxxx") || !errors.Is(err, kafka.SASLAuthenticationFailed) {
		t.Errorf("error %q", err)
	}
	if _, err := (SASL{SASLScramSHA256, "app", "bad\u0007hunter2"}).kafkaGo(); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("SASLprep error %v", err)
	}
}

func TestConnectHint(t *testing.T) {
	t.Parallel()
	timeout := fmt.Errorf("read: %w", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded})
	accepted := connSeen{accepted: true, wait: 5 * time.Second}
	tlsDone := connSeen{accepted: true, heard: true, tlsDone: true, wait: 5 * time.Second}
	answered := connSeen{accepted: true, heard: true, answered: true, wait: 5 * time.Second}
	worked := accepted
	worked.worked = true
	tlsSASL := &Config{TLS: &tls.Config{}, SASL: SASL{Mechanism: SASLPlain}}
	for _, c := range []struct {
		name      string
		err       error
		cfg       *Config
		seen      connSeen
		want, not []string
	}{
		{"plaintext client closed", io.EOF, &Config{}, connSeen{accepted: true},
			[]string{"set kafka.tls.enabled: true", "kafka.sasl.mechanism"}, []string{"SASL missing"}},
		{"TLS client closed", io.ErrUnexpectedEOF, tlsSASL, connSeen{accepted: true},
			[]string{"is the listener plaintext? set kafka.tls.enabled: false or use the broker's TLS port"}, []string{"SASL"}},
		{"TLS done, then closed", io.ErrUnexpectedEOF, &Config{TLS: &tls.Config{}}, tlsDone,
			[]string{"TLS handshake succeeded", "is SASL missing?", "kafka.sasl.mechanism"}, []string{"plaintext"}},
		{"plaintext answered, then closed", io.EOF, &Config{}, answered,
			[]string{"is SASL missing?", "kafka.sasl.mechanism"}, []string{"kafka.tls"}},
		{"frozen at start", timeout, &Config{}, accepted,
			[]string{"accepted the connection but did not answer within 5s: it may be overloaded or paused, or", "set kafka.tls.enabled: true"}, nil},
		{"frozen at a restart", timeout, tlsSASL, worked,
			[]string{"did not answer within 5s", "worked earlier in this process"}, []string{"kafka.tls.enabled", "set kafka.sasl"}},
		{"slow after the handshake", context.DeadlineExceeded, &Config{TLS: &tls.Config{}}, tlsDone,
			[]string{"overloaded or paused"}, []string{"kafka.tls.enabled", "SASL"}},
		{"no connection", timeout, &Config{}, connSeen{wait: time.Second}, []string{"no broker accepted a connection within 1s"}, []string{"kafka.tls"}},
	} {
		h := connectHint(c.err, c.cfg, c.seen)
		for _, w := range c.want {
			if !strings.Contains(h, w) {
				t.Errorf("%s: %q lacks %q", c.name, h, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(h, n) {
				t.Errorf("%s: %q has %q", c.name, h, n)
			}
		}
	}
	if h := connectHint(fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), &Config{}, connSeen{}); h != "" {
		t.Errorf("refused connection: %q", h)
	}
}

// TestRetryStopsAtSecurityErrors: the retry loop gives up at the first
// rejected credential or certificate, and keeps retrying network errors.
func TestRetryStopsAtSecurityErrors(t *testing.T) {
	t.Parallel()
	s := startSink(t, fastConfig(newFake(t).ListenAddrs()))
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("x: %w", kafka.SASLAuthenticationFailed), 1},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, 1},
		{io.ErrUnexpectedEOF, s.cfg.MaxAttempts},
	} {
		n, err := s.retry(context.Background(), s.log, func(context.Context, *kafka.Client) error { return c.err })
		if n != c.want || !errors.Is(err, c.err) {
			t.Errorf("%v: %d attempts (%v), want %d", c.err, n, err, c.want)
		}
	}
	halt := &HaltError{Topic: "t", First: 1, Last: 1, LastOffset: -1, Attempts: 1,
		Err: asSecurityError(kafka.SASLAuthenticationFailed, &Config{SASL: SASL{SASLPlain, "u", "p"}})}
	if msg := halt.Error(); !strings.Contains(msg, "kafka.sasl.password") || !strings.Contains(msg, "Change the settings named above") {
		t.Errorf("halt error %q", msg)
	}
}

// TestFakeSASL produces with every mechanism to an in-process broker that
// requires SASL, and Check passes there. (kfake closes the connection on a
// wrong password where Kafka answers SASL_AUTHENTICATION_FAILED, so wrong
// passwords are tested against a real broker, in security_test.go.)
func TestFakeSASL(t *testing.T) {
	t.Parallel()
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			c := newFake(t, kfake.EnableSASL(), kfake.Superuser(mech, "walrelay", "right-pw"))
			cfg := fastConfig(c.ListenAddrs())
			cfg.SASL = SASL{Mechanism: mech, Username: "walrelay", Password: "right-pw"}
			s := startSink(t, cfg)
			a := newAcks(1)
			if err := s.Send(context.Background(), testRecord("sasl", 1, 0, a)); err != nil {
				t.Fatal(err)
			}
			a.wait(t, 10*time.Second)
			if res := Check(context.Background(), cfg, "probe"); len(res) != 3 || !res[0].OK || !res[1].OK ||
				!res[2].OK || !strings.Contains(res[2].What, "idempotent writes allowed") {
				t.Errorf("Check: %+v", res)
			}
			cfg.SASL = SASL{}
			// The broker answers ApiVersions, then closes the connection:
			// SASL is missing, and TLS is not in question.
			if _, err := New(context.Background(), cfg, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "is SASL missing? set kafka.sasl.mechanism") ||
				strings.Contains(err.Error(), "kafka.tls") {
				t.Errorf("without SASL: %v, want a hint at kafka.sasl only", err)
			}
		})
	}
}

// TestInsecureSkipVerifyWarns: with verification off the sink connects to a
// broker whose certificate no root knows, and says so once.
func TestInsecureSkipVerifyWarns(t *testing.T) {
	t.Parallel()
	c := newFake(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}))
	cfg := fastConfig(c.ListenAddrs())
	cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}
	var buf testenv.SyncBuffer
	s, err := New(context.Background(), cfg, zerolog.New(&buf))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close(context.Background())
	if n := strings.Count(buf.String(), "insecure_skip_verify"); n != 1 {
		t.Errorf("%d warnings about insecure_skip_verify, want 1; log:\n%s", n, buf.String())
	}

	cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	_, err = New(context.Background(), cfg, zerolog.Nop())
	var sec *SecurityError
	if !errors.As(err, &sec) || !strings.Contains(err.Error(), "kafka.tls.ca_file") {
		t.Errorf("verifying: %v", err)
	}
}

// selfSigned returns a certificate for 127.0.0.1 that no CA signed.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
