package pipeline

import (
	"context"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/schema"
	"github.com/walrelay/walrelay/snapshot"
)

// prepareTopics has the sink read, and create in batches, the topics of the
// captured tables (sink.Prepare) before the snapshot and streaming, instead
// of one request after another as each table's first record arrives: a
// first start over thousands of tables otherwise spends most of its time
// creating topics. The tables are those the snapshot would read
// (snapshotTables); their topics are the ones the routing knows ahead
// (preparedTopics). Prepare is an optimisation: what it cannot do is left
// to each topic's first write, as before, so its failures are logged and
// the session goes on. With snapshot.mode initial_only and a checkpoint
// stored there is nothing to publish, and nothing is prepared. Called by
// setup on the session goroutine once the sink and the rules are ready.
func (s *session) prepareTopics(ctx context.Context) {
	if s.cfg.Snapshot.Mode == config.SnapshotInitialOnly && s.found {
		return
	}
	tables, err := s.snapshotTables(ctx)
	if err != nil {
		s.log.Debug().Err(err).Msg("kafka: the captured tables could not be listed to prepare their topics; each is created on its first write")
		return
	}
	topics := s.preparedTopics(tables)
	if len(topics) == 0 {
		return
	}
	if _, err := s.sink.Prepare(ctx, topics); err != nil && ctx.Err() == nil {
		s.log.Warn().Err(err).Msg("kafka: preparing the captured tables' topics failed; the others are created on their first write")
	}
}

// preparedTopics returns the topics the changes of tables may go to, as far
// as the routing knows before a row arrives: each table's default topic
// without rules (the tables are the capture set), and with rules the topics
// of the rules that may keep its changes (filter.Rules.TableTopics): none
// for a table the rules drop, nor for outbox routes, which depend on row
// values.
func (s *session) preparedTopics(tables []snapshot.Table) []string {
	var rules *filter.Rules
	if st := s.filterState(); st != nil {
		if rules = st.latest.Load(); rules == nil {
			return nil
		}
	}
	var out []string
	for _, t := range tables {
		def := schema.Topic(s.cfg.TopicPrefix, &event.Relation{Schema: t.Schema, Table: t.Name})
		if rules == nil {
			out = append(out, def)
			continue
		}
		out = append(out, rules.TableTopics(t.Schema, t.Name, def)...)
	}
	return out
}
