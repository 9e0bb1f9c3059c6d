package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
)

// filterState is a session's rules: the ones deciding now (reader goroutine
// only), the ones loaded by SIGHUP and waiting for the in-flight transaction
// to end, and the newest of the two (read by the publication poller).
type filterState struct {
	cfg    *config.Config
	source string // ce_source of raw records

	current   *filter.Rules // reader goroutine only
	pending   *filter.Rules // reader goroutine only; replaces current, see apply
	pendingTx *event.Tx     // the transaction in flight when pending was loaded
	lastTx    *event.Tx     // the transaction of the last change routed

	latest atomic.Pointer[filter.Rules] // pending if any, else current
	poller *publicationPoller
}

// filterStates holds each session's filterState. (The session struct has
// no field for it; the lead may move it there.) A session's entry is
// removed, and its poller stopped, when the next session of the same config
// opens its filter, or by closeFilter.
var filterStates sync.Map // *session -> *filterState

// filterState returns s's rules, or nil when no rules file is configured.
func (s *session) filterState() *filterState {
	if v, ok := filterStates.Load(s); ok {
		return v.(*filterState)
	}
	return nil
}

// openFilter loads the rules for a new session. If the file no longer loads
// but an earlier session of this config had good rules, those stay in force
// (a restart must not turn an unfinished edit into an outage); the first
// session fails on a bad file.
func (s *session) openFilter(ctx context.Context) (*filterState, error) {
	prev := takeOver(s.cfg)
	rules, err := filter.Load(s.cfg.Rules, s.cfg.MaskSalt)
	if err != nil {
		if prev == nil {
			return nil, fmt.Errorf("rules file: %w", err)
		}
		s.log.Error().Err(err).Str("rules", s.cfg.Rules).Msg("rules file does not load; keeping the rules in force")
		rules = prev
	}
	source, err := ceSource(ctx, s.db)
	if err != nil {
		return nil, err
	}
	st := &filterState{cfg: s.cfg, source: source, current: rules}
	st.latest.Store(rules)
	filterStates.Store(s, st)
	s.log.Info().Str("rules", s.cfg.Rules).Int("rules_count", len(rules.Rules)).Int("message_routes", len(rules.Messages)).
		Stringer("default", rules.Default).Bool("manage_publication", s.cfg.Publication.ManageEnabled()).Msg("rules loaded")
	s.logProblems(ctx, rules)
	return st, nil
}

// takeOver removes the filter states of earlier sessions of cfg, stopping
// their pollers, and returns the newest rules they had.
func takeOver(cfg *config.Config) *filter.Rules {
	var rules *filter.Rules
	filterStates.Range(func(k, v any) bool {
		if st := v.(*filterState); st.cfg == cfg {
			st.stopPoller()
			rules = st.latest.Load()
			filterStates.Delete(k)
		}
		return true
	})
	return rules
}

// closeFilter stops s's poller and forgets its rules. It is safe to call
// when s has no rules; session.close may call it (otherwise the next
// session or Run's context does the same).
func (s *session) closeFilter() {
	if st := s.filterState(); st != nil {
		st.stopPoller()
		filterStates.Delete(s)
	}
}

// ceSource reads the system identifier and database for ce_source.
func ceSource(ctx context.Context, db *pgx.Conn) (string, error) {
	var sys, name string
	if err := db.QueryRow(ctx, "SELECT system_identifier::text, current_database() FROM pg_control_system()").Scan(&sys, &name); err != nil {
		return "", fmt.Errorf("postgres: reading the system identifier: %w", err)
	}
	return event.CloudEventsSource(sys, name), nil
}

// logProblems logs what the catalog shows wrong with the rules (one line
// each); they do not stop the relay, walrelay check reports them too.
func (s *session) logProblems(ctx context.Context, rules *filter.Rules) {
	matches, err := filter.Describe(ctx, s.db, rules)
	if err != nil {
		s.log.Warn().Err(err).Msg("rules not checked against the catalog")
		return
	}
	for _, m := range matches {
		for _, p := range m.Problems {
			s.log.Warn().Str("rules", s.cfg.Rules).Msg(p.Error())
		}
	}
}

// stage makes next the rules that decide from the next transaction on:
// inTx says a transaction is in flight (its remaining changes keep the old
// rules). Reader goroutine only.
func (st *filterState) stage(next *filter.Rules, inTx bool) {
	next.Succeed(st.current)
	st.pending, st.pendingTx = next, nil
	if inTx {
		st.pendingTx = st.lastTx
	}
	st.latest.Store(next)
}

// apply decides ch under the rules in force, switching to staged rules at
// the first change of a transaction that started after the reload. Reader
// goroutine only.
func (st *filterState) apply(ch *event.Change, log zerolog.Logger) (filter.Decision, error) {
	if st.pending != nil && (st.pendingTx == nil || ch.Tx != st.pendingTx) {
		st.current, st.pending, st.pendingTx = st.pending, nil, nil
		log.Info().Stringer("commit_lsn", ch.Tx.CommitLSN).Str("first_event", ch.ID()).Msg("rules reloaded")
	}
	st.lastTx = ch.Tx
	return st.current.Apply(ch)
}
