package main

import (
	"context"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/schema/registry"
)

// checkRegistry is the schema registry's line of `walrelay check`: with
// format avro and schema_registry.url set, whether the registry can be
// reached with the configured credentials and TLS and speaks the Confluent
// API (and, for Apicurio's ccompat URL, whether its native API, where walrelay
// reads subjects' own compatibility levels, answers). Nothing for JSON or
// the embedded registry, which `walrelay run` starts itself.
func checkRegistry(ctx context.Context, cfg *config.Config) []replication.Finding {
	sr := cfg.SchemaRegistry
	if cfg.Format != "avro" || sr.URL == "" {
		return nil
	}
	b, err := registry.NewHTTPBackend(registry.HTTPConfig{
		URL: sr.URL, Username: sr.Username, Password: sr.Password,
		CAFile: sr.CAFile, CertFile: sr.CertFile, KeyFile: sr.KeyFile, Timeout: sr.Timeout,
	})
	if err != nil {
		return []replication.Finding{{What: err.Error(),
			Fix: "set schema_registry.url to the registry's http(s) base URL, and ca_file, cert_file and key_file to readable PEM files"}}
	}
	r := b.Check(ctx)
	return []replication.Finding{{OK: r.OK, What: r.What, Fix: r.Fix}}
}
