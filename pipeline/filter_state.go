package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
)

// filterState is a session's rules: the ones deciding now (reader goroutine
// only), the ones loaded by SIGHUP and waiting for the in-flight transaction
// to end, and the newest of the two (read by the publication poller).
type filterState struct {
	source string // ce_source of raw records; set once the system is identified

	current   *filter.Rules // reader goroutine only
	pending   *filter.Rules // reader goroutine only; replaces current, see apply
	pendingTx *event.Tx     // the transaction in flight when pending was loaded
	lastTx    *event.Tx     // the transaction of the last change routed

	latest atomic.Pointer[filter.Rules] // pending if any, else current
	poller *publicationPoller
}

// filterState returns s's rules, or nil when no rules file is configured.
func (s *session) filterState() *filterState { return s.filter }

// openFilter loads the rules for a new session. If the file no longer loads
// but an earlier session of this Run had good rules, those stay in force
// (a restart must not turn an unfinished edit into an outage); the first
// session fails on a bad file.
func (s *session) openFilter(ctx context.Context) (*filterState, error) {
	prev := s.rs.rules
	rules, err := filter.Load(s.cfg.Rules, s.cfg.MaskSalt)
	if err != nil {
		if prev == nil {
			return nil, fmt.Errorf("rules file: %w", err)
		}
		s.log.Error().Err(err).Str("rules", s.cfg.Rules).Msg("rules file does not load; keeping the rules in force")
		rules = prev
	}
	st := &filterState{current: rules}
	st.latest.Store(rules)
	s.filter = st
	s.log.Info().Str("rules", s.cfg.Rules).Int("rules_count", len(rules.Rules)).Int("message_routes", len(rules.Messages)).
		Stringer("default", rules.Default).Bool("manage_publication", s.cfg.Publication.ManageEnabled()).Msg("rules loaded")
	s.logProblems(ctx, rules)
	return st, nil
}

// closeFilter stops s's poller and hands its newest rules to the next
// session of the Run. It is safe to call when s has no rules.
func (s *session) closeFilter() {
	if st := s.filter; st != nil {
		st.stopPoller()
		s.rs.rules = st.latest.Load()
		s.filter = nil
	}
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
