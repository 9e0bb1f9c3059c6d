package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/schema"
)

// checkTopics warns (walrelay check goes on) about captured tables whose
// default topics collide (schema.SharedTopics): names that differ only in
// characters a topic cannot hold, or topics Kafka treats as one; and about
// those whose default topic is longer than 249 characters. captured
// is the capture set check uses: the rules' tables, else postgres.tables,
// else (empty) every table. Tables that every rule naming them routes
// elsewhere (topic:, outbox) are left out. A catalog read that fails is
// left to the other findings.
func checkTopics(ctx context.Context, db *pgx.Conn, cfg *config.Config, captured []string) []replication.Finding {
	names := captured
	switch {
	case cfg.Rules != "":
		names = defaultTopicTables(ctx, db, cfg, captured)
	case len(names) == 0:
		names = everyTable(ctx, db)
	}
	var out []replication.Finding
	for _, s := range schema.SharedTopics(cfg.TopicPrefix, names) {
		out = append(out, replication.Finding{Warn: true, What: s.Message(), Fix: s.Fix()})
	}
	return append(out, longTopics(cfg.TopicPrefix, names)...)
}

// longTopics warns about tables of names whose default topic is longer
// than Kafka allows: their changes halt walrelay (or, with
// kafka.on_failure: dead_letter, go to the dead-letter topic).
func longTopics(prefix string, names []string) []replication.Finding {
	var out []replication.Finding
	for _, name := range names {
		s, t, ok := pgident.Cut(name)
		if !ok {
			continue
		}
		topic := schema.Topic(prefix, &event.Relation{Schema: s, Table: t})
		if len(topic) <= maxTopicLen {
			continue
		}
		out = append(out, replication.Finding{Warn: true,
			What: fmt.Sprintf("table %s's default topic is %d characters, longer than Kafka's limit of %d: its "+
				"changes halt walrelay (with kafka.on_failure: dead_letter they go to the dead-letter topic)",
				name, len(topic), maxTopicLen),
			Fix: fmt.Sprintf("give it a shorter topic with a rule in the rules file, e.g. {tables: [%q], topic: \"...\"}, "+
				"or shorten topic_prefix", name)})
	}
	return out
}

// maxTopicLen is Kafka's limit on a topic name's length.
const maxTopicLen = 249

// defaultTopicTables returns the tables of captured that some rule naming
// them (or the default) publishes on their default topic.
func defaultTopicTables(ctx context.Context, db *pgx.Conn, cfg *config.Config, captured []string) []string {
	rs, err := filter.Load(cfg.Rules, cfg.MaskSalt)
	if err != nil {
		return nil
	}
	tables, err := filter.TablesWithTypes(ctx, db)
	if err != nil {
		return nil
	}
	routes := map[string]bool{} // table -> every rule naming it routes it elsewhere
	for _, m := range rs.DescribeTables(tables) {
		if m.Rule < 0 || m.Rule >= len(rs.Rules) {
			continue
		}
		r := rs.Rules[m.Rule]
		routed := r.Drop || r.Topic != "" || r.Outbox != nil
		for _, t := range m.Tables {
			if all, seen := routes[t]; !seen || all {
				routes[t] = routed
			}
		}
	}
	var out []string
	for _, t := range captured {
		if !routes[t] {
			out = append(out, t)
		}
	}
	return out
}

// everyTable lists the tables a capture-all walrelay captures, as check's
// table findings do; nil when the catalog cannot be read.
func everyTable(ctx context.Context, db *pgx.Conn) []string {
	rows, err := db.Query(ctx, `SELECT n.nspname::text, c.relname::text FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'
		AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'walrelay') AND n.nspname NOT LIKE 'pg_toast%'
		ORDER BY 1, 2`)
	if err != nil {
		return nil
	}
	names, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var s, t string
		err := r.Scan(&s, &t)
		return pgident.Format(s, t), err
	})
	if err != nil {
		return nil
	}
	return names
}
