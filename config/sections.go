package config

import "time"

// SchemaRegistry configures Avro's schema registry (format: avro).
type SchemaRegistry struct {
	URL           string        `yaml:"url"`           // "" = the embedded registry
	Listen        string        `yaml:"listen"`        // embedded registry's address; default 127.0.0.1:8081
	Username      string        `yaml:"username"`      // basic auth for an external registry
	Password      string        `yaml:"password"`      // never logged
	CAFile        string        `yaml:"ca_file"`       // TLS: CA bundle for an external registry
	CertFile      string        `yaml:"cert_file"`     // TLS client certificate
	KeyFile       string        `yaml:"key_file"`      // TLS client key
	Compatibility string        `yaml:"compatibility"` // BACKWARD (default), FORWARD, FULL, *_TRANSITIVE, NONE
	Timeout       time.Duration `yaml:"timeout"`       // per request; default 10s
}

// Publication controls whether walrelay manages the publication's tables
// from the rules file.
type Publication struct {
	Manage       *bool         `yaml:"manage"`        // default true
	PollInterval time.Duration `yaml:"poll_interval"` // catalog poll for new tables; default 30s
}

// ManageEnabled reports whether the publication is managed from the rules.
func (p Publication) ManageEnabled() bool { return p.Manage == nil || *p.Manage }

// Heartbeat configures pg_logical_emit_message heartbeats.
type Heartbeat struct {
	Interval time.Duration `yaml:"interval"` // 0 = off
	Topic    string        `yaml:"topic"`    // "" = heartbeats are not published
}

// Snapshot configures the initial snapshot of existing rows.
type Snapshot struct {
	Mode        string `yaml:"mode"`        // initial (default) | never | always | initial_only | when_needed
	Parallelism int    `yaml:"parallelism"` // tables/chunks read at once; default 2
	ChunkSize   int    `yaml:"chunk_size"`  // rows per primary-key chunk; default 50000
	// Catchup is how tables added to the capture set later (and snapshot
	// signals) are snapshotted: incremental (default) reads them in chunks
	// while the stream goes on; blocking pauses the stream meanwhile.
	Catchup          string `yaml:"catchup"`
	CatchupChunkSize int    `yaml:"catchup_chunk_size"` // rows per incremental chunk; default 2048
}

// Metrics serves Prometheus metrics over HTTP.
type Metrics struct {
	Listen string `yaml:"listen"` // host:port of GET /metrics; "" = no metrics server
}
