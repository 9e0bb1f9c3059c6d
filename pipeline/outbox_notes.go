package pipeline

import (
	"sync"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
)

// Log messages about outbox tables.
const (
	msgOutboxUpdate  = "outbox: an UPDATE of an outbox row publishes nothing"
	msgOutboxJoined  = "outbox tables joined the capture set: events written to them before they joined the publication are not published"
	msgOutboxCatchup = "catch-up: an outbox rule's snapshot reads publish no events"
)

// outboxUpdatesWarned holds the outbox tables ("schema.table") whose
// dropped update was logged: once per table and process.
var outboxUpdatesWarned sync.Map

// warnOutboxUpdate logs, once per table, that an update of an outbox row
// was decided by its outbox rule and published nothing (d is ch's decision
// under st's rules in force): an application that updates outbox rows loses
// those changes, as Debezium's outbox router warns by default
// (invalid.operation.behavior=skip-warn). Reader goroutine only.
func (s *session) warnOutboxUpdate(st *filterState, d filter.Decision, ch *event.Change) {
	if d.Action != filter.Drop || ch.Op != event.OpUpdate || d.Rule < 0 || st.current == nil ||
		d.Rule >= len(st.current.Rules) || st.current.Rules[d.Rule].Outbox == nil {
		return
	}
	table := ch.Relation.QualifiedName()
	if _, seen := outboxUpdatesWarned.LoadOrStore(table, true); seen {
		return
	}
	s.log.Warn().Str("table", table).Int("rule", d.Rule).Str("event", ch.ID()).
		Str("fix", "only inserts into an outbox table are events: insert a new row per event (logged once per table)").
		Msg(msgOutboxUpdate)
}

// outboxTables returns those of tables that the newest rules route through
// an outbox rule (filter.Rules.OutboxTable); nil without rules.
func (s *session) outboxTables(tables []string) []string {
	st := s.filterState()
	if st == nil {
		return nil
	}
	rs := st.latest.Load()
	if rs == nil {
		return nil
	}
	return rs.OutboxTables(tables)
}

// warnOutboxJoining warns when a catch-up is recorded for outbox tables
// (added: tables about to join the publication): walrelay cannot decode WAL
// of a table outside the publication, and the catch-up's snapshot reads of
// an outbox table publish no events, so the events written to it before it
// joined are never published.
func (s *session) warnOutboxJoining(added []string) {
	if obx := s.outboxTables(added); len(obx) > 0 {
		s.log.Warn().Strs("tables", obx).
			Str("why", "walrelay cannot decode WAL of a table outside the publication, and a snapshot of an outbox table publishes no events").
			Str("fix", "create an outbox table, with a rule naming it, and let walrelay add it to the publication before the "+
				"application writes to it (or use an unmanaged FOR ALL TABLES or FOR TABLES IN SCHEMA publication); see README, Filter rules").
			Msg(msgOutboxJoined)
	}
}

// noteOutboxCatchup says, when a catch-up snapshot is about to read outbox
// tables (tables: the catch-up's), that their reads publish no events
// (rows_published 0), and that their inserts committed before the
// boundary are still published from the stream.
func (s *session) noteOutboxCatchup(tables []string) {
	if obx := s.outboxTables(tables); len(obx) > 0 {
		s.log.Info().Strs("tables", obx).
			Str("detail", "rows_published is 0 for these tables; their inserts are published from the stream only, "+
				"including those committed before the catch-up's boundary").
			Msg(msgOutboxCatchup)
	}
}
