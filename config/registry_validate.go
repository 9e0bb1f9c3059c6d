package config

import (
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/walrelay/walrelay/schema/registry"
)

// checkSchemaRegistry validates schema_registry when format is avro: a
// known compatibility level; with a url, an http(s) URL, credentials as a
// pair and readable TLS files (https only); without one, a host:port for
// the embedded registry to listen on; a positive timeout.
func (c *Config) checkSchemaRegistry() *Error {
	if c.Format != "avro" {
		return nil
	}
	sr := c.SchemaRegistry
	if _, err := registry.ParseLevel(sr.Compatibility); err != nil {
		return &Error{Key: "schema_registry.compatibility", Msg: fmt.Sprintf("unknown level %q", sr.Compatibility),
			Fix: "use BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE"}
	}
	if sr.Timeout <= 0 {
		return &Error{Key: "schema_registry.timeout", Msg: "must be positive", Fix: "e.g. 10s"}
	}
	if sr.URL == "" {
		return checkListen(sr.Listen)
	}
	return checkExternalRegistry(sr)
}

func checkListen(listen string) *Error {
	if _, port, err := net.SplitHostPort(listen); err != nil || port == "" {
		return &Error{Key: "schema_registry.listen", Msg: fmt.Sprintf("%q is not host:port", listen),
			Fix: "e.g. 127.0.0.1:8081 (the embedded registry serves consumers there), or set schema_registry.url"}
	}
	return nil
}

func checkExternalRegistry(sr SchemaRegistry) *Error {
	u, err := url.Parse(sr.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return &Error{Key: "schema_registry.url", Msg: "not an http(s) URL",
			Fix: "e.g. https://registry.example.com:8081, or leave it empty for the embedded registry"}
	}
	if u.User != nil {
		return &Error{Key: "schema_registry.url", Msg: "holds credentials",
			Fix: "put them in schema_registry.username and password (or WALRELAY_SCHEMA_REGISTRY_PASSWORD)"}
	}
	if sr.Password != "" && sr.Username == "" {
		return &Error{Key: "schema_registry.username", Msg: "missing while a password is set",
			Fix: "set the basic-auth user name too"}
	}
	if (sr.CertFile == "") != (sr.KeyFile == "") {
		return &Error{Key: "schema_registry.cert_file", Msg: "cert_file and key_file go together",
			Fix: "set both for a TLS client certificate, or neither"}
	}
	for key, path := range map[string]string{"ca_file": sr.CAFile, "cert_file": sr.CertFile, "key_file": sr.KeyFile} {
		if path == "" {
			continue
		}
		if u.Scheme != "https" {
			return &Error{Key: "schema_registry." + key, Msg: "set for an http:// registry URL",
				Fix: "use an https:// URL, or remove the TLS files"}
		}
		if _, err := os.Stat(path); err != nil {
			return &Error{Key: "schema_registry." + key, Msg: fmt.Sprintf("cannot read %s: %v", path, err),
				Fix: "give the path of a PEM file"}
		}
	}
	return nil
}
