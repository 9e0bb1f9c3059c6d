package pipeline

import (
	"context"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
)

// trackLineage adds to st's column lineage the tables captured now that it
// does not know yet (keep: a table's qualified name -> captured), with
// their columns in the catalog (filter.Rules.TrackTables), and saves the
// lineage if that or the start's reconciliation changed it: an empty or
// idle table, none of whose changes reaches walrelay, is then saved too,
// and reported at the next start if its columns change while walrelay is
// stopped (logStoppedChanges). One query of pg_class, and one of
// pg_attribute for the tables the lineage lacks, per session start. A
// catalog that cannot be read is logged: those tables are then tracked
// from their first change, as before. A lineage that cannot be saved is an
// error, as in saveLineage.
func (s *session) trackLineage(ctx context.Context, st *filterState, keep func(name string) bool) error {
	if st.dataDir == "" && st.lineageStore == nil {
		return nil
	}
	excluded := s.excludedTables()
	tables, err := filter.LineageCandidates(ctx, s.db, func(name string) bool { return !excluded[name] && keep(name) })
	if err == nil {
		err = st.current.TrackTables(ctx, s.db, tables)
	}
	if err != nil {
		s.log.Warn().Err(err).Msg("column lineage: the captured tables walrelay has seen no change of are not tracked; " +
			"a change of their columns while walrelay is stopped is not logged at the next start")
	}
	return st.saveLineage(true, s.log)
}

// capturedLineage is the column lineage without a rules file
// (postgres.tables, or every table): st.current is filter.LineageOnly,
// which decides nothing and only records the relations of the captured
// changes (observe), so that a table whose columns changed while walrelay
// was stopped is logged at start as with a rules file. Reader goroutine
// only, like route.
type capturedLineage struct {
	st   *filterState
	seen map[*event.Relation]bool // the decoder's relation versions recorded
	last *event.Relation          // one-entry cache: consecutive changes mostly share a relation
}

// openCapturedLineage starts the session's column lineage without a rules
// file (capturedLineage): the first session of a Run seeds it from the one
// the previous process saved, reconciles it with the catalog and logs the
// tables changed while walrelay was stopped (seedLineage), later ones
// continue the Run's; each one tracks the captured tables it does not know
// (trackLineage). Called after prepareCaptured, which found the tables of
// postgres.tables under their current names. A state saved that does not
// read stops walrelay, as with a rules file (the error says how to start
// without it).
func (s *session) openCapturedLineage(ctx context.Context) error {
	if s.cfg.DataDir == "" && s.lineageStore() == nil {
		return nil
	}
	rules := s.rs.lineage
	if rules == nil {
		rules = filter.LineageOnly()
		if err := s.seedLineage(ctx, rules); err != nil {
			return err
		}
		s.rs.lineage = rules
	}
	st := &filterState{current: rules, dataDir: s.cfg.DataDir, lineageStore: s.lineageStore()}
	s.keptLineage = &capturedLineage{st: st, seen: map[*event.Relation]bool{}}
	listed := map[string]bool{}
	for _, t := range s.listedTables() {
		listed[t] = true
	}
	all := len(s.cfg.Postgres.Tables) == 0
	return s.trackLineage(ctx, st, func(name string) bool { return all || listed[name] })
}

// observeCaptured records the relation of ch, a captured change, in the
// column lineage kept without a rules file, and saves the lineage when it
// changed (saveLineage: a table whose columns changed at once, new tables
// at most every lineageEvery). It costs a pointer comparison per change
// otherwise. An error halts the pipeline, as a checkpoint that cannot be
// stored does.
func (s *session) observeCaptured(ch *event.Change) error {
	c := s.keptLineage
	if c == nil || ch.Relation == nil {
		return nil
	}
	if rel := ch.Relation; rel != c.last {
		if !c.seen[rel] {
			c.seen[rel] = true
			c.st.current.ObserveLineage(rel, ch.LSN)
		}
		c.last = rel
	}
	return c.st.saveLineage(false, s.log)
}

// closeCapturedLineage saves the column lineage kept without a rules file
// if it changed; the Run's next session continues it (runState.lineage).
func (s *session) closeCapturedLineage() {
	if c := s.keptLineage; c != nil {
		if err := c.st.saveLineage(true, s.log); err != nil {
			s.log.Error().Err(err).Msg("column lineage not saved")
		}
		s.keptLineage = nil
	}
}
