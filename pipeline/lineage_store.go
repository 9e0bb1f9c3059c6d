package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
)

// lineageStore returns the session's checkpoint store where it keeps the
// column lineage too (checkpoint.store: postgres), else nil.
func (s *session) lineageStore() checkpoint.LineageStore {
	ls, _ := s.store.(checkpoint.LineageStore)
	return ls
}

// lineageStoreTimeout bounds a save of the column lineage in the store:
// the reader goroutine waits for it (a rename is saved before the change is
// published), and sends no status updates meanwhile.
const lineageStoreTimeout = 15 * time.Second

// storeLineage saves b (a filter.LineageState in JSON) in the checkpoint
// store, if it keeps one. A store whose table lacks the lineage column
// (an older walrelay's table the role may not alter; seedLineage warned)
// is left out from then on, keeping the lineage in data_dir only.
func (st *filterState) storeLineage(b []byte) error {
	if st.lineageStore == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), lineageStoreTimeout)
	defer cancel()
	err := st.lineageStore.SaveLineage(ctx, b)
	if errors.Is(err, checkpoint.ErrNoLineageColumn) {
		st.lineageStore = nil
		return nil
	}
	return err
}

// savedLineage reads the column lineage the previous process saved: the
// file in dataDir ("" = none) and the checkpoint store's, ls (nil = none).
// The store's is the slot's, written by whichever walrelay held the slot
// last, so it is taken for every table it has, and the file adds the
// tables only it has (a file written by a walrelay that did not keep the
// lineage in the store yet, or by one running with other rules): a data
// directory that was not kept, or is older than the store (a standby
// taking over), loses nothing. A store whose table lacks the lineage
// column (an older walrelay's, which the role may not alter) is logged,
// and the file is then all there is. A state that does not read is an
// error that says how to start without it.
func savedLineage(ctx context.Context, dataDir string, ls checkpoint.LineageStore, log zerolog.Logger) (*filter.LineageState, error) {
	var file *filter.LineageState
	if dataDir != "" {
		var err error
		if file, err = loadLineage(dataDir); err != nil {
			return nil, err
		}
	}
	if ls == nil {
		return file, nil
	}
	b, err := ls.LoadLineage(ctx)
	if errors.Is(err, checkpoint.ErrNoLineageColumn) {
		log.Warn().Err(err).Msg("column lineage kept in data_dir only: a masked or excluded column renamed while walrelay " +
			"is stopped is published under its new name if data_dir is not kept")
		return file, nil
	}
	if err != nil {
		return nil, err
	}
	if b == nil {
		return file, nil
	}
	stored, err := parseLineage(b)
	if err != nil {
		return nil, fmt.Errorf("reading the column lineage in %s: %w (to start without it: UPDATE %s SET lineage = NULL; "+
			"a masked or excluded column renamed while walrelay was stopped is then published under its new name)",
			checkpoint.TableName, err, checkpoint.TableName)
	}
	return mergeLineage(stored, file), nil
}

// mergeLineage returns stored with the tables of file it lacks (by OID).
func mergeLineage(stored, file *filter.LineageState) *filter.LineageState {
	if file == nil {
		return stored
	}
	have := map[uint32]bool{}
	for _, t := range stored.Tables {
		have[t.OID] = true
	}
	for _, t := range file.Tables {
		if !have[t.OID] {
			stored.Tables = append(stored.Tables, t)
		}
	}
	return stored
}

// ReadLineage reads the column lineage walrelay run saved (savedLineage:
// data_dir's file and, with checkpoint.store: postgres, the store's), only
// reading (walrelay check): nil when there is none. An error says how to
// start without it.
func ReadLineage(ctx context.Context, cfg *config.Config) (*filter.LineageState, error) {
	var ls checkpoint.LineageStore
	if cfg.Checkpoint.Store == "postgres" {
		store, err := OpenStore(ctx, cfg, false)
		if err != nil {
			return nil, err
		}
		defer store.Close()
		ls, _ = store.(checkpoint.LineageStore)
	}
	return savedLineage(ctx, cfg.DataDir, ls, zerolog.Nop())
}
