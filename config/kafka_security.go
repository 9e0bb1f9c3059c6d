package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// KafkaTLS configures TLS to the brokers (kafka.tls). With Enabled false the
// connection is plaintext and no TLS file may be set.
type KafkaTLS struct {
	Enabled            bool   `yaml:"enabled"`              // default false
	CAFile             string `yaml:"ca_file"`              // PEM CA bundle; "" = system roots
	CertFile           string `yaml:"cert_file"`            // PEM client certificate (mutual TLS), with key_file
	KeyFile            string `yaml:"key_file"`             // PEM private key of cert_file
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"` // never in production; logged as a warning
}

// KafkaSASL configures SASL authentication to the brokers (kafka.sasl).
type KafkaSASL struct {
	Mechanism string `yaml:"mechanism"` // "" = none | plain | scram-sha-256 | scram-sha-512
	Username  string `yaml:"username"`  //
	Password  string `yaml:"password"`  // never logged; prefer WALRELAY_KAFKA_SASL_PASSWORD
}

// SASL mechanisms of kafka.sasl.mechanism, in the normalised (lower) case.
const (
	SASLPlain       = "plain"
	SASLScramSHA256 = "scram-sha-256"
	SASLScramSHA512 = "scram-sha-512"
)

// checkKafkaSecurity validates kafka.tls and kafka.sasl. It normalises
// kafka.sasl.mechanism to lower case first, so later readers of the Config
// see one spelling. TLS files must be readable now (their PEM content is
// checked when the sink's TLS configuration is built).
func (c *Config) checkKafkaSecurity() *Error {
	s := &c.Kafka.SASL
	s.Mechanism = strings.ToLower(strings.TrimSpace(s.Mechanism))
	if err := checkSASL(*s); err != nil {
		return err
	}
	return checkKafkaTLS(c.Kafka.TLS)
}

func checkSASL(s KafkaSASL) *Error {
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.Password != "" {
			return &Error{Key: "kafka.sasl.mechanism", Msg: "missing while kafka.sasl.username or password is set",
				Fix: "set kafka.sasl.mechanism to plain, scram-sha-256 or scram-sha-512, or remove the credentials"}
		}
		return nil
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
	default:
		return &Error{Key: "kafka.sasl.mechanism", Msg: fmt.Sprintf("unknown mechanism %q", s.Mechanism),
			Fix: "use plain, scram-sha-256 or scram-sha-512 (or leave it empty for no authentication)"}
	}
	if s.Username == "" {
		return &Error{Key: "kafka.sasl.username", Msg: fmt.Sprintf("missing while kafka.sasl.mechanism is %s", s.Mechanism),
			Fix: "set the SASL user name (Confluent Cloud: the API key)"}
	}
	if s.Password == "" {
		return &Error{Key: "kafka.sasl.password", Msg: fmt.Sprintf("missing while kafka.sasl.mechanism is %s", s.Mechanism),
			Fix: "set WALRELAY_KAFKA_SASL_PASSWORD (or kafka.sasl.password)"}
	}
	return nil
}

func checkKafkaTLS(t KafkaTLS) *Error {
	// Name the key that is set, so the error carries its line.
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		return &Error{Key: "kafka.tls.cert_file", Msg: "set without kafka.tls.key_file",
			Fix: "set kafka.tls.key_file to the client certificate's private key, or remove cert_file"}
	case t.KeyFile != "" && t.CertFile == "":
		return &Error{Key: "kafka.tls.key_file", Msg: "set without kafka.tls.cert_file",
			Fix: "set kafka.tls.cert_file to the client certificate, or remove key_file"}
	}
	for _, f := range []struct{ key, path string }{
		{"kafka.tls.ca_file", t.CAFile}, {"kafka.tls.cert_file", t.CertFile}, {"kafka.tls.key_file", t.KeyFile},
	} {
		if f.path == "" {
			continue
		}
		if !t.Enabled {
			return &Error{Key: f.key, Msg: "set while kafka.tls.enabled is false",
				Fix: "set kafka.tls.enabled: true, or remove the TLS files"}
		}
		if err := readable(f.path); err != nil {
			return &Error{Key: f.key, Msg: fmt.Sprintf("cannot read %s: %v", f.path, err), Fix: "give the path of a readable PEM file"}
		}
	}
	if t.InsecureSkipVerify && !t.Enabled {
		return &Error{Key: "kafka.tls.insecure_skip_verify", Msg: "set while kafka.tls.enabled is false",
			Fix: "set kafka.tls.enabled: true, or remove insecure_skip_verify"}
	}
	return nil
}

// readable opens path and reads a byte, so a missing, empty or unreadable
// file (or a directory) fails here rather than when the sink starts.
func readable(path string) error {
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		_, err = f.Read(make([]byte, 1))
	}
	var pe *fs.PathError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("the file is empty")
	case errors.As(err, &pe):
		return pe.Err
	}
	return err
}
