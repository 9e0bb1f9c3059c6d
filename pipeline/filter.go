package pipeline

import (
	"context"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/replication"
)

// preparePublication makes sure the publication is ready before streaming.
//
// Without a rules file the publication holds postgres.tables (FOR ALL TABLES
// when empty), and changes of other tables it may publish are dropped
// (captureSet). With
// one, the rules are loaded; with publication.manage (the default) the
// publication is set to exactly the tables the rules capture and a poller
// keeps it so as tables appear (see filter_poller.go); without it, the
// publication must exist and is used as it is, the rules filtering
// client-side. Either way a role that may not read a captured table is
// refused first (requireRulesSelect), before any slot exists. Called by setup on the session's goroutine, before the
// replication connection exists.
func (s *session) preparePublication(ctx context.Context) error {
	if s.cfg.Rules == "" {
		if err := s.prepareCaptured(ctx); err != nil { // capture_follow.go
			return err
		}
		return s.openCapturedLineage(ctx) // lineage_track.go
	}
	st, err := s.openFilter(ctx)
	if err != nil {
		return err
	}
	if !s.cfg.Publication.ManageEnabled() {
		return checkUnmanagedPublication(ctx, s.db, s.cfg.Postgres.Publication, st.latest.Load(), s.excludedTables(), s.log)
	}
	version, err := replication.ServerVersion(ctx, s.db)
	if err != nil {
		return err
	}
	if err := requireRulesSelect(ctx, s.db, st.latest.Load(), s.excludedTables(), version >= replication.ViaRootVersion, nil); err != nil {
		return err
	}
	if _, err := syncPublication(ctx, s.db, s.cfg.Postgres.Publication, st.latest.Load(), s.excludedTables(), s.recordAdded, s.log); err != nil {
		return err
	}
	st.startPoller(ctx, s)
	return nil
}

// route turns one change into the records to publish (none when it is not
// captured, or when a catch-up snapshot holds it). It runs on the reader
// goroutine, and on the session goroutine for snapshot rows. With rules, the
// change goes through them first: dropped, encoded as projected (on the
// rule's topic), or published raw (outbox rows, routed messages). A raw
// record is published even when a blocking catch-up covers its change: the
// snapshot publishes no outbox event, so it holds none of them. A change a
// blocking catch-up leaves out is still published when, as projected, it
// deletes a key the catch-up's snapshot did not publish (uncoveredDelete),
// or truncates its table, which takes the catch-up again after it
// (catchup_truncate.go); the snapshot's own reads are noted for that
// (noteRead).
func (s *session) route(ch *event.Change) ([]event.Record, error) {
	covered := s.coveredByCatchup(ch)
	st := s.filterState()
	if st == nil {
		if !s.captures(ch) {
			return nil, nil
		}
		if err := s.observeCaptured(ch); err != nil { // lineage_track.go
			return nil, err
		}
		return s.encodeCaught(ch, covered)
	}
	d, err := st.apply(ch, s.log)
	if err != nil {
		return nil, err
	}
	s.warnOutboxUpdate(st, d, ch)
	switch d.Action {
	case filter.Keep:
		d.Change.Topic = d.Topic // "" keeps the default topic
		return s.encodeCaught(d.Change, covered)
	case filter.Raw:
		// Never covered: a snapshot read publishes no raw record (an outbox
		// rule turns reads into nothing), so it cannot stand for this one.
		return []event.Record{d.Raw.Record(st.source)}, nil
	}
	return nil, nil
}

// encodeCaught encodes a captured change (as projected by the rules): when
// a blocking catch-up covers it, only what it still must publish of it
// (leftOutToPublish), if anything; a read of that catch-up's snapshot is
// noted first.
func (s *session) encodeCaught(ch *event.Change, covered bool) ([]event.Record, error) {
	if covered {
		if ch = s.leftOutToPublish(ch); ch == nil {
			return nil, nil
		}
	}
	s.noteRead(ch)
	return s.encode(ch)
}

// reloadRules is called on the publisher goroutine between two messages when
// the process received SIGHUP. It loads and validates the rules file again,
// and checks its where expressions against the catalog (vetReload):
// on error the old rules stay and the error is logged; on success the new
// rules decide from the first change of a transaction that has not started
// under the old ones (so a transaction is never split between the two), and
// a managed publication is updated at once by the poller. It never fails the
// session.
func (s *session) reloadRules(ctx context.Context) error {
	st := s.filterState()
	if st == nil {
		s.log.Info().Msg("SIGHUP: no rules file configured, nothing to reload")
		return nil
	}
	next, err := filter.Load(s.cfg.Rules, s.cfg.MaskSalt)
	if err == nil {
		err = s.vetReload(ctx, next)
	}
	if err != nil {
		s.log.Error().Err(err).Str("rules", s.cfg.Rules).Msg("SIGHUP: rules file not reloaded, the previous rules stay in force")
		return nil
	}
	st.stage(next, s.reader.pub.txn != nil)
	s.log.Info().Str("rules", s.cfg.Rules).Int("rules_count", len(next.Rules)).
		Msg("SIGHUP: rules file loaded; it applies from the next transaction")
	st.kickPoller()
	return nil
}
