package sink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
)

// SecurityError is a broker connection failure that retrying cannot fix:
// the broker refused the SASL credentials or mechanism, or TLS could not be
// set up (a broker certificate from an unknown authority or for another
// host, a client certificate the broker requires but did not get or does
// not accept, TLS against a plaintext listener). The sink never retries it,
// and the pipeline treats it as fatal. Its text holds neither the password
// nor anything the broker echoed of it.
type SecurityError struct {
	// Problem says what went wrong, e.g. `SASL authentication failed for
	// user "app" (scram-sha-512)`.
	Problem string
	// Fix names the settings to change (kafka.sasl.*, kafka.tls.*).
	Fix string
	// Err is the broker's or the TLS stack's error.
	Err error
}

func (e *SecurityError) Error() string {
	return fmt.Sprintf("%s: %v; fix: %s", e.Problem, e.Err, e.Fix)
}

func (e *SecurityError) Unwrap() error { return e.Err }

// asSecurityError returns err as a *SecurityError when it is one of the
// failures SecurityError describes, with a fix suited to cfg; otherwise it
// returns err unchanged. Called on every error of a broker request.
func asSecurityError(err error, cfg *Config) error {
	if err == nil {
		return nil
	}
	var already *SecurityError
	if errors.As(err, &already) {
		return err
	}
	problem, fix := explainSASL(err, cfg)
	if problem == "" {
		problem, fix = explainTLS(err, cfg)
	}
	if problem == "" {
		return err
	}
	if p := cfg.SASL.Password; p != "" && strings.Contains(err.Error(), p) {
		err = &redactedError{msg: redact(err.Error(), p), err: err}
	}
	return &SecurityError{Problem: problem, Fix: fix, Err: err}
}

// explainSASL recognises the broker's SASL answers (kafka-go and franz-go).
func explainSASL(err error, cfg *Config) (problem, fix string) {
	mech := cfg.SASL.Mechanism
	switch {
	case errors.Is(err, kafka.SASLAuthenticationFailed), errors.Is(err, kerr.SaslAuthenticationFailed):
		return fmt.Sprintf("SASL authentication failed for user %q (%s)", cfg.SASL.Username, mech),
			"check kafka.sasl.username and kafka.sasl.password (WALRELAY_KAFKA_SASL_PASSWORD), and that kafka.sasl.mechanism is the one the user was created for"
	case errors.Is(err, kafka.UnsupportedSASLMechanism), errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Sprintf("the listener does not enable SASL mechanism %s", mech),
			"set kafka.sasl.mechanism to one of the listener's sasl.enabled.mechanisms (plain, scram-sha-256 or scram-sha-512)"
	case errors.Is(err, kafka.IllegalSASLState), errors.Is(err, kerr.IllegalSaslState):
		return "the listener does not expect SASL",
			"remove kafka.sasl, or list the broker's SASL_SSL (or SASL_PLAINTEXT) port in kafka.brokers"
	}
	return "", ""
}

// explainTLS recognises certificate and handshake failures, and a
// plaintext client that got a TLS alert back.
func explainTLS(err error, cfg *Config) (problem, fix string) {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		header    tls.RecordHeaderError
		op        *net.OpError
	)
	switch {
	case errors.As(err, &unknownCA):
		fix := "set kafka.tls.ca_file to the PEM bundle of the CA that signed the broker's certificate"
		if cfg.TLS != nil && cfg.TLS.RootCAs != nil {
			fix = "kafka.tls.ca_file does not hold the CA that signed the broker's certificate: point kafka.tls.ca_file at the right PEM bundle"
		}
		return "the broker's TLS certificate is signed by an unknown authority", fix
	case errors.As(err, &hostname):
		return fmt.Sprintf("the broker's TLS certificate is not valid for %s", hostname.Host),
			"list the brokers in kafka.brokers under a name their certificate holds (kafka.tls.insecure_skip_verify only for tests)"
	case errors.As(err, &invalid):
		return "the broker's TLS certificate is not valid",
			"renew the broker's certificate or check this host's clock; kafka.tls.ca_file must hold its CA"
	case errors.As(err, &op) && op.Op == "remote error": // crypto/tls: an alert from the broker
		return "the broker refused the TLS handshake", alertFix(op.Err.Error(), cfg)
	case errors.As(err, &header):
		return "the broker did not answer with TLS",
			"the listener is plaintext: set kafka.tls.enabled: false, or list the broker's TLS port in kafka.brokers"
	case cfg.TLS == nil && expectsTLS(err):
		return "the listener expects TLS",
			"set kafka.tls.enabled: true (with kafka.tls.ca_file unless a public CA signed the broker's certificate)"
	}
	return "", ""
}

// expectsTLS recognises kafka-go's and franz-go's detection of a TLS alert
// in answer to a plaintext request.
func expectsTLS(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "broker appears to be expecting TLS") ||
		strings.Contains(msg, "plaintext connection speaking to a tls endpoint")
}

// alertFix explains a TLS alert the broker sent (alert is its text, e.g.
// "tls: certificate required").
func alertFix(alert string, cfg *Config) string {
	if !strings.Contains(alert, "certificate") && !strings.Contains(alert, "handshake failure") {
		return "check kafka.tls.* against the listener's TLS settings (protocol versions, cipher suites)"
	}
	if cfg.TLS == nil || (len(cfg.TLS.Certificates) == 0 && cfg.TLS.GetClientCertificate == nil) {
		return "the listener requires a client certificate (mutual TLS): set kafka.tls.cert_file and kafka.tls.key_file"
	}
	return "the broker does not accept the client certificate: check kafka.tls.cert_file and kafka.tls.key_file (signed by a CA in the broker's truststore, not expired)"
}

// connectFix classifies a failed first request to the bootstrap brokers
// (sink.New, Check): a *SecurityError when retrying cannot help, otherwise
// the fix to print: connectHint's, when what the connections saw explains
// the failure, else fallback.
func connectFix(err error, cfg *Config, fallback string, seen connSeen) (*SecurityError, string) {
	var sec *SecurityError
	if errors.As(asSecurityError(err, cfg), &sec) {
		return sec, ""
	}
	if hint := connectHint(err, cfg, seen); hint != "" {
		return nil, hint
	}
	return nil, fallback
}

// connectHint explains a first request to the bootstrap brokers (sink.New,
// Check) that timed out, or whose connection was closed or reset, from what
// the connections saw; "" for other errors (a refused connection: a wrong
// host or port) and when nothing more precise than the fallback can be said.
//
//   - Accepted but no byte back within the setup time: a slow or paused
//     broker first, then a listener speaking another protocol (unless these
//     settings worked earlier in this process: then only the broker).
//   - The TLS handshake completed (or, in plaintext, the broker answered)
//     and then the broker closed the connection: SASL is missing.
//   - Closed before that: TLS on one side only, or SASL.
func connectHint(err error, cfg *Config, seen connSeen) string {
	timeout := isTimeout(err)
	if !timeout && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
		return ""
	}
	const keep = "these kafka.brokers, kafka.tls and kafka.sasl settings worked earlier in this process, so check the broker rather than them"
	spoke := seen.tlsDone || cfg.TLS == nil && seen.answered
	switch {
	case timeout && !seen.accepted:
		return fmt.Sprintf("no broker accepted a connection within %s: check kafka.brokers and that this host can reach them (firewall, routing)", seen.wait)
	case timeout && !seen.heard:
		h := fmt.Sprintf("the broker accepted the connection but did not answer within %s: it may be overloaded or paused", seen.wait)
		if seen.worked {
			return h + "; " + keep
		}
		return h + ", or the listener speaks another protocol: " + protocolHints(cfg)
	case timeout:
		return "the broker answered the connection but not the request in time: it may be overloaded or paused; check the broker"
	case seen.worked:
		return "the broker closed the connection; " + keep
	case spoke && cfg.SASL.Mechanism == "":
		return saslMissing(cfg)
	case spoke:
		return ""
	}
	return "check kafka.brokers; " + protocolHints(cfg)
}

// protocolHints guesses at a listener that speaks another protocol than cfg:
// TLS on one side only, SASL required.
func protocolHints(cfg *Config) string {
	var hints []string
	if cfg.TLS == nil {
		hints = append(hints, "is the listener TLS? set kafka.tls.enabled: true")
	} else {
		hints = append(hints, "is the listener plaintext? set kafka.tls.enabled: false or use the broker's TLS port")
	}
	if cfg.SASL.Mechanism == "" {
		hints = append(hints, "does it require SASL? set kafka.sasl.mechanism, username and password")
	}
	return strings.Join(hints, "; ")
}

// saslMissing is the hint for a broker that spoke cfg's protocol (the TLS
// handshake completed, or it answered in plaintext) and then closed the
// connection, as a SASL listener does at a request before authentication.
func saslMissing(cfg *Config) string {
	if cfg.TLS != nil {
		return "the TLS handshake succeeded, then the broker closed the connection after a request, which happens when the listener " +
			"requires SASL (SASL_SSL): is SASL missing? set kafka.sasl.mechanism, username and password"
	}
	return "the broker answered, then closed the connection after a request, which happens when the listener " +
		"requires SASL (SASL_PLAINTEXT): is SASL missing? set kafka.sasl.mechanism, username and password"
}

// isTimeout reports a deadline that passed (net timeouts, context deadline).
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	var kErr kafka.Error // a broker's answer implements Timeout too
	if errors.As(err, &kErr) {
		return kErr == kafka.RequestTimedOut
	}
	return errors.As(err, &t) && t.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// redactedError shows msg (an error's text without the password) and keeps
// the original error for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact replaces every occurrence of secret in msg.
func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "xxxxx")
}
