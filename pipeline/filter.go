package pipeline

import (
	"context"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// preparePublication makes sure the publication exists with the capture set.
func (s *session) preparePublication(ctx context.Context) error {
	return replication.EnsurePublication(ctx, s.db, s.cfg.Postgres.Publication, s.cfg.Postgres.Tables, s.log)
}

// route turns one change into the records to publish (none when it is not
// captured). It runs on the reader goroutine.
func (s *session) route(ch *event.Change) ([]event.Record, error) {
	return s.enc.Encode(ch)
}

// reloadRules is called on the reader goroutine between two messages when
// the process received SIGHUP.
func (s *session) reloadRules(ctx context.Context) error {
	s.log.Info().Msg("SIGHUP: no rules file configured, nothing to reload")
	return nil
}
