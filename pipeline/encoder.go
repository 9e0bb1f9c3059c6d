package pipeline

import (
	"fmt"
	"net"
	"path/filepath"

	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/schema"
	"github.com/walrelay/walrelay/schema/registry"
)

// newEncoder builds the encoder for the configured format: JSON, or Avro
// with the schema registry of the process (see schemaRegistry).
func (s *session) newEncoder(sys replication.System) (schema.Encoder, error) {
	cfg := s.cfg
	opts := schema.Options{
		TopicPrefix:      cfg.TopicPrefix,
		Database:         sys.Database,
		SystemID:         sys.ID,
		Tombstones:       cfg.Kafka.TombstonesEnabled(),
		ToastPlaceholder: cfg.ToastPlaceholder,
		Version:          s.opts.Version,
		TopicShared:      s.warnTopicShared,
	}
	// config.Validate has parsed the modes.
	opts.DecimalMode, _ = schema.ParseDecimalMode(cfg.DecimalHandlingMode)
	opts.BinaryMode, _ = schema.ParseBinaryMode(cfg.BinaryHandlingMode)
	opts.TimePrecision, _ = schema.ParseTimePrecisionMode(cfg.TimePrecisionMode)
	opts.IntervalMode, _ = schema.ParseIntervalMode(cfg.IntervalHandlingMode)
	if cfg.Format != "avro" {
		return schema.NewJSON(opts), nil
	}
	reg, err := s.schemaRegistry()
	if err != nil {
		return nil, fatal(err)
	}
	return schema.NewAvro(opts, schema.AvroOptions{
		Registry:        reg.client,
		RegistryURL:     reg.url,
		RegistryTimeout: cfg.SchemaRegistry.Timeout,
		Log:             s.log.With().Str("stage", "schema").Logger(),
		Memory:          reg.known,
	})
}

// registryHandle is the schema registry side of format avro: the client
// (with its subject+fingerprint -> ID cache), what the sessions' encoders
// derived (each relation's latest schemas and field names) and, without a
// URL, the embedded registry's server. It outlives sessions, so a session
// restarted while the registry is down publishes the tables whose schemas
// the process already knows; only a table new to the process or a schema
// change needs the registry.
type registryHandle struct {
	client *registry.Client
	known  *schema.AvroMemory
	server *registry.Server // nil for an external registry
	url    string
}

// schemaRegistry returns the Run's registry handle, opening the embedded
// store and starting its server (on schema_registry.listen), or building the
// client of the external registry, on first use.
func (s *session) schemaRegistry() (*registryHandle, error) {
	if h := s.rs.registry; h != nil {
		return h, nil
	}
	cfg, log := s.cfg, s.log
	sr := cfg.SchemaRegistry
	level, err := registry.ParseLevel(sr.Compatibility)
	if err != nil {
		return nil, fmt.Errorf("schema_registry.compatibility: %w", err)
	}
	log = log.With().Str("stage", "registry").Logger()
	h := &registryHandle{url: sr.URL, known: schema.NewAvroMemory()}
	if sr.URL != "" {
		b, err := registry.NewHTTPBackend(registry.HTTPConfig{
			URL: sr.URL, Username: sr.Username, Password: sr.Password,
			CAFile: sr.CAFile, CertFile: sr.CertFile, KeyFile: sr.KeyFile, Timeout: sr.Timeout,
		})
		if err != nil {
			return nil, err
		}
		h.client = registry.NewClient(b, level, log)
		log.Info().Str("url", sr.URL).Str("compatibility", string(level)).Msg("using external schema registry")
	} else {
		store, err := registry.OpenStore(filepath.Join(cfg.DataDir, "registry"), level)
		if err != nil {
			return nil, err
		}
		h.server = registry.NewServer(store, log)
		if err := h.server.Start(sr.Listen); err != nil {
			return nil, err
		}
		h.client = registry.NewClient(store, level, log)
		h.url = "http://" + advertised(h.server.Addr())
	}
	s.rs.registry = h
	return h, nil
}

// advertised turns a listen address into one a person can use in a URL: a
// wildcard host becomes 127.0.0.1.
func advertised(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
