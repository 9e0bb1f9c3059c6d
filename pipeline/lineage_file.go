package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/filter"
)

// lineageFile is where the columns of the tables the rules mask or exclude
// columns of are kept in the data directory (filter.LineageState), so that
// a restarted walrelay sees a column renamed while it was stopped.
const lineageFile = "column-lineage.json"

// writeLineageFile writes b (a filter.LineageState in JSON) into dir
// atomically (temporary file, fsync, rename). Called on the reader
// goroutine when the shapes changed (filter.Rules.LineageChanged), not per
// event.
func writeLineageFile(dir string, b []byte) error {
	return writeDataFile(dir, lineageFile, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// loadLineage reads the state saved in dir; nil when there is none (a
// first start, or a data directory from before the file existed). A file
// that does not read is an error that says how to start without it.
func loadLineage(dir string) (*filter.LineageState, error) {
	path := filepath.Join(dir, lineageFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var st *filter.LineageState
	if err == nil {
		st, err = parseLineage(b)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w (it keeps the columns of the tables whose columns the rules mask or exclude; "+
			"delete it to start without it, and a masked or excluded column renamed while walrelay was stopped is then published under its new name)", path, err)
	}
	return st, nil
}

// parseLineage reads a filter.LineageState saved as JSON.
func parseLineage(b []byte) (*filter.LineageState, error) {
	var st filter.LineageState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Version != filter.LineageVersion {
		return nil, fmt.Errorf("format version %d, this walrelay reads %d", st.Version, filter.LineageVersion)
	}
	return &st, nil
}

// pruneDropped keeps the tables of st that the database still has (by OID:
// a table dropped since is gone, one re-created has a new OID), so the file
// does not grow with dropped tables.
func pruneDropped(ctx context.Context, q filter.Querier, st *filter.LineageState) error {
	if st == nil || len(st.Tables) == 0 {
		return nil
	}
	oids := make([]uint32, len(st.Tables))
	for i, t := range st.Tables {
		oids[i] = t.OID
	}
	rows, err := q.Query(ctx, "SELECT oid::int8 FROM pg_class WHERE oid = ANY($1::oid[])", oids)
	if err != nil {
		return fmt.Errorf("postgres: reading pg_class: %w", err)
	}
	defer rows.Close()
	have := map[uint32]bool{}
	for rows.Next() {
		var oid int64
		if err := rows.Scan(&oid); err != nil {
			return fmt.Errorf("postgres: reading pg_class: %w", err)
		}
		have[uint32(oid)] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: reading pg_class: %w", err)
	}
	kept := st.Tables[:0]
	for _, t := range st.Tables {
		if have[t.OID] {
			kept = append(kept, t)
		}
	}
	st.Tables = kept
	return nil
}

// seedLineage starts the first rules of a Run from the lineage saved by
// the previous process (savedLineage: data_dir's file and the postgres
// checkpoint store's), without the tables dropped since (a catalog that
// cannot be read keeps them all), reconciled with the catalog
// (filter.Rules.ReconcileLineage: a column renamed while walrelay was
// stopped is known by its former name before the replay reaches the
// changes from before the rename; a table whose columns changed while
// walrelay was stopped is logged at info). A saved state that does not read, or a
// catalog that cannot be read to reconcile it, stops walrelay: without
// them, a masked or excluded column renamed while walrelay was stopped
// would be published in plain text.
func (s *session) seedLineage(ctx context.Context, rules *filter.Rules) error {
	ls := s.lineageStore()
	if s.cfg.DataDir == "" && ls == nil {
		return nil
	}
	st, err := savedLineage(ctx, s.cfg.DataDir, ls, s.log)
	if err != nil {
		return err
	}
	if err := pruneDropped(ctx, s.db, st); err != nil {
		s.log.Warn().Err(err).Msg("column lineage: dropped tables not pruned")
	}
	rules.SeedLineage(st)
	if err := rules.ReconcileLineage(ctx, s.db); err != nil {
		return fmt.Errorf("column lineage: %w (walrelay compares the saved columns with the catalog at start, "+
			"so that a masked or excluded column renamed while it was stopped is not published under its old name: "+
			"check the role's privileges)", err)
	}
	logStoppedChanges(ctx, s.db, s.log, rules.StoppedChanges()) // lineage_stopped.go
	return nil
}

// lineageEvery is how often at most the column lineage is saved for new
// tables only; a table whose columns changed is saved at once.
const lineageEvery = time.Second

// saveLineage saves the column lineage when it changed: at once when a
// known table changed shape or name (before the change is published), at
// most every lineageEvery when tables were only added (an initial snapshot
// sees every table once: one write each would cost a quadratic number of
// bytes), and whatever changed when all is set (the session ends). The
// reader goroutine calls it after each Apply; it costs a comparison when
// nothing changed. An error halts the pipeline, as a checkpoint that
// cannot be stored does: a rename the file misses would be published in
// plain text after a restart.
func (st *filterState) saveLineage(all bool, log zerolog.Logger) error {
	if st.dataDir == "" && st.lineageStore == nil || !st.current.LineagePending() {
		return nil
	}
	now := time.Now()
	ls, ok := st.current.LineageChanged(all || now.Sub(st.lineageAt) >= lineageEvery)
	if !ok {
		return nil
	}
	b, err := json.Marshal(ls)
	if err == nil && bytes.Equal(b, st.lineageSaved) {
		// e.g. first sights after a restart of tables saved before: nothing
		// to write, but the state was built, so the next build waits
		// lineageEvery too (each table's first change rebuilt it: quadratic)
		st.lineageAt = now
		return nil
	}
	if err == nil {
		err = st.storeLineage(b) // the store first: it is preferred at start, see savedLineage
	}
	if err != nil {
		st.current.LineageUnsaved()
		return fmt.Errorf("column lineage: %w", err)
	}
	if st.dataDir != "" {
		err = writeLineageFile(st.dataDir, b)
	}
	if err != nil {
		st.current.LineageUnsaved()
		return fmt.Errorf("column lineage: %w (free space or fix the permissions of the data directory)", err)
	}
	st.lineageAt, st.lineageSaved = now, b
	if ls.Omitted > 0 {
		log.Warn().Int("omitted", ls.Omitted).Int("kept", len(ls.Tables)).
			Msg("column lineage: too many tables to keep; a restart misses renames in the least recently seen ones")
	}
	return nil
}
