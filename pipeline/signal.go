package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/replication"
)

// SnapshotSignalPrefix is the prefix of the logical decoding message that
// asks a running walrelay to snapshot tables again (`walrelay snapshot`,
// like Debezium's execute-snapshot signal): content {"slot": "name",
// "tables": ["schema.table", ...]}. Every walrelay streaming from the
// database decodes it; only the one whose postgres.slot is "slot" answers
// (a signal without "slot", written by hand or by an older walrelay, is
// answered by every walrelay). It records a catch-up of the tables it
// captures (catchup.go) and restarts its session, which publishes their
// rows as read events from a snapshot and then exactly their later changes;
// a signal naming none of its tables changes nothing. The message itself is
// not published. It needs PostgreSQL 14 or later (pgoutput's messages
// option).
const SnapshotSignalPrefix = "walrelay_snapshot"

// snapshotSignal is the content of a snapshot signal. Slot empty: every
// walrelay answers it.
type snapshotSignal struct {
	Slot   string   `json:"slot,omitempty"`
	Tables []string `json:"tables"`
}

// parseSnapshotSignal parses a snapshot signal's content: a JSON object
// with a non-empty "tables" list and an optional "slot".
func parseSnapshotSignal(content []byte) (snapshotSignal, error) {
	var sig snapshotSignal
	if err := json.Unmarshal(content, &sig); err != nil {
		return sig, err
	}
	if len(sig.Tables) == 0 {
		return sig, fmt.Errorf("no tables")
	}
	return sig, nil
}

// EmitSnapshotSignal writes a snapshot signal for tables (schema.table),
// addressed to the walrelay that streams from slot, into the WAL with
// pg_logical_emit_message and returns its LSN. Called by `walrelay
// snapshot`.
func EmitSnapshotSignal(ctx context.Context, db *pgx.Conn, slot string, tables []string) (event.LSN, error) {
	version, err := replication.ServerVersion(ctx, db)
	if err != nil {
		return 0, err
	}
	if version < 140000 {
		return 0, fmt.Errorf("snapshot signals need PostgreSQL 14 or later (this server is %d); restart walrelay with "+
			"snapshot.mode: always instead", version)
	}
	body, err := json.Marshal(snapshotSignal{Slot: slot, Tables: tables})
	if err != nil {
		return 0, err
	}
	var text string
	err = db.QueryRow(ctx, "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)::text", SnapshotSignalPrefix, string(body)).Scan(&text)
	if err != nil {
		return 0, fmt.Errorf("postgres: pg_logical_emit_message: %w", err)
	}
	lsn, err := pglogrepl.ParseLSN(text)
	return lsn, err
}

// PublicationDecides reports whether the publication, rather than the
// config, decides which tables a walrelay with cfg captures: without
// postgres.tables and rules (a FOR ALL TABLES publication, or one made by
// hand), or with rules and publication.manage: false. CapturedTables then
// needs a connection.
func PublicationDecides(cfg *config.Config) bool {
	if cfg.Rules != "" {
		return !cfg.Publication.ManageEnabled()
	}
	return len(cfg.Postgres.Tables) == 0
}

// CapturedTables splits names (schema.table) into the tables a walrelay
// running with cfg captures and the others, each in names' order: never
// walrelay's own tables or a name that is not schema.table; with rules
// (the rules in force, nil without a rules file) those the rules capture;
// else those in postgres.tables, and the current name of a table of
// postgres.tables renamed or moved since walrelay's last start (which it
// follows by OID: capture_follow.go; its OID is read from data_dir, only
// with db); and, when PublicationDecides, only those the publication
// publishes (a publication that does not exist yet is created at start:
// FOR ALL TABLES without rules). db is needed only then and may be nil
// otherwise. Called by `walrelay snapshot`.
func CapturedTables(ctx context.Context, cfg *config.Config, rules *filter.Rules, db *pgx.Conn, names []string) (captured, other []string, err error) {
	var followed []string
	if rules == nil && db != nil && len(cfg.Postgres.Tables) > 0 {
		if followed, err = savedFollowedNames(ctx, db, cfg); err != nil {
			return nil, nil, err
		}
	}
	return capturedTables(ctx, cfg, rules, db, names, followed)
}

// savedFollowedNames are the current names of the tables of
// postgres.tables whose OIDs walrelay's last start saved in data_dir.
func savedFollowedNames(ctx context.Context, db *pgx.Conn, cfg *config.Config) ([]string, error) {
	var oids []uint32
	for name, oid := range loadFollowFile(cfg.DataDir, zerolog.Nop()) {
		if slices.Contains(cfg.Postgres.Tables, name) {
			oids = append(oids, oid)
		}
	}
	current, err := tablesByOID(ctx, db, oids)
	return slices.Collect(maps.Values(current)), err
}

// capturedTables is CapturedTables with followed, the current names of the
// tables of postgres.tables followed by OID, captured too without rules.
func capturedTables(ctx context.Context, cfg *config.Config, rules *filter.Rules, db *pgx.Conn, names, followed []string) (captured, other []string, err error) {
	var published map[string]bool // nil: the publication does not narrow the set
	if PublicationDecides(cfg) {
		if published, err = publishedSet(ctx, db, cfg.Postgres.Publication); err != nil {
			return nil, nil, err
		}
	}
	listed := make(map[string]bool, len(cfg.Postgres.Tables))
	for _, t := range cfg.Postgres.Tables {
		listed[t] = true
	}
	for _, t := range followed {
		listed[t] = true
	}
	excluded := excludedTables(cfg)
	for _, n := range names {
		s, t, ok := pgident.Cut(n)
		keep := ok && s != "" && t != "" && !excluded[n]
		switch {
		case !keep:
		case rules != nil:
			keep = rules.Captures(n)
		case len(listed) > 0:
			keep = listed[n]
		}
		if keep && published != nil {
			keep = published[n]
		}
		if keep {
			captured = append(captured, n)
		} else {
			other = append(other, n)
		}
	}
	return captured, other, nil
}

// publishedSet returns the tables publication pub publishes
// (pg_publication_tables, as runCatchup reads them), or nil when pub does
// not exist.
func publishedSet(ctx context.Context, db *pgx.Conn, pub string) (map[string]bool, error) {
	p, err := replication.ReadPublication(ctx, db, pub)
	if err != nil || !p.Exists {
		return nil, err
	}
	tables, err := publicationTables(ctx, db, pub)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(tables))
	for _, t := range tables {
		out[t.String()] = true
	}
	return out, nil
}

// isSnapshotSignal reports whether ch is a snapshot signal.
func isSnapshotSignal(ch *event.Change) bool {
	return ch.Op == event.OpMessage && ch.Message != nil && ch.Message.Prefix == SnapshotSignalPrefix
}

// snapshotSignal answers a snapshot signal on the publisher goroutine: once
// per signal (one read again after a restart was recorded in the
// checkpoint's catch-up, Catchup.Signal), it records a catch-up of the
// signal's tables that this walrelay captures (CapturedTables) through the
// committer and asks the session to restart. A signal for another slot, or
// naming no table this walrelay captures, is logged at info and changes
// nothing; tables it does not capture are logged at info and left out. A
// signal that does not parse is logged and ignored. None of these ends the
// session; failing to read the publication (PublicationDecides) does.
func (p *publisher) snapshotSignal(ctx context.Context, ch *event.Change) error {
	s := p.s
	at := ch.Tx.CommitLSN
	log := s.log.With().Stringer("signal_lsn", at).Logger()
	if s.committer.Catchup().Handled(at) {
		log.Debug().Msg("snapshot signal already handled")
		return nil
	}
	sig, err := parseSnapshotSignal(ch.Message.Content)
	if err != nil {
		log.Warn().Err(err).Str("content", string(ch.Message.Content)).
			Msg(`snapshot signal ignored: its content must be {"slot":"name","tables":["schema.table", ...]} ("slot" optional)`)
		return nil
	}
	if sig.Slot != "" && sig.Slot != s.cfg.Postgres.Slot {
		log.Info().Str("signal_slot", sig.Slot).Strs("tables", sig.Tables).
			Msg("snapshot signal for the walrelay of another slot ignored")
		return nil
	}
	tables := slices.Clone(sig.Tables)
	slices.Sort(tables)
	captured, other, err := s.signalTables(ctx, slices.Compact(tables))
	if err != nil {
		return fmt.Errorf("snapshot signal at %s: %w", at, err)
	}
	if len(other) > 0 {
		log.Info().Strs("tables", other).Msg("snapshot signal: tables this walrelay does not capture are ignored")
	}
	if len(captured) == 0 {
		return nil
	}
	cu, err := s.catchupNextSession(ctx, captured, at)
	if err != nil {
		return fmt.Errorf("recording the snapshot signal at %s: %w", at, err)
	}
	log.Info().Strs("tables", captured).Strs("catchup_tables", cu.Tables).
		Msg("snapshot signal: restarting the session to snapshot these tables")
	return nil
}

// signalTables is CapturedTables for this session: its rules in force, the
// current names of the tables of postgres.tables it follows by OID (its
// capture set's), and a connection of its own when the publication decides
// or to find those names (the session's connection belongs to its
// goroutine). Called on the publisher goroutine.
func (s *session) signalTables(ctx context.Context, names []string) (captured, other []string, err error) {
	var rules *filter.Rules
	if st := s.filterState(); st != nil {
		rules = st.latest.Load()
	}
	var oids []uint32
	if rules == nil && s.capture != nil {
		oids = slices.Collect(maps.Keys(s.capture.oids))
	}
	var db *pgx.Conn
	if PublicationDecides(s.cfg) || len(oids) > 0 {
		if db, err = replication.ConnectSQL(ctx, s.cfg.Postgres.DSN); err != nil {
			return nil, nil, err
		}
		defer db.Close(context.Background())
	}
	current, err := tablesByOID(ctx, db, oids)
	if err != nil {
		return nil, nil, err
	}
	return capturedTables(ctx, s.cfg, rules, db, names, slices.Collect(maps.Values(current)))
}
