package pipeline

import (
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/schema"
)

// newEncoder builds the encoder for the configured format.
func (s *session) newEncoder(sys replication.System) (schema.Encoder, error) {
	cfg := s.cfg
	return schema.NewJSON(schema.Options{
		TopicPrefix:      cfg.TopicPrefix,
		Database:         sys.Database,
		SystemID:         sys.ID,
		Tombstones:       cfg.Kafka.TombstonesEnabled(),
		ToastPlaceholder: cfg.ToastPlaceholder,
		Version:          s.opts.Version,
	}), nil
}
