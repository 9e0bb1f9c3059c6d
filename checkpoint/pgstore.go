package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/pgdsn"
)

// Schema and TableName are where PostgresStore keeps the checkpoint in the
// source database. The pipeline must never capture TableName: its rows change
// on every save, and capturing them would feed the checkpoint back into itself.
const (
	Schema    = "walrelay"
	table     = "checkpoint"
	TableName = Schema + "." + table
)

const (
	createSchemaSQL = `CREATE SCHEMA IF NOT EXISTS ` + Schema
	createTableSQL  = `CREATE TABLE IF NOT EXISTS ` + TableName + ` (
	slot       text PRIMARY KEY,
	lsn        pg_lsn NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	catchup    jsonb,
	lineage    jsonb,
	system_id  text,
	database   text)`
	addCatchupSQL  = `ALTER TABLE ` + TableName + ` ADD COLUMN IF NOT EXISTS catchup jsonb`
	addLineageSQL  = `ALTER TABLE ` + TableName + ` ADD COLUMN IF NOT EXISTS lineage jsonb`
	addIdentitySQL = `ALTER TABLE ` + TableName + ` ADD COLUMN IF NOT EXISTS system_id text, ADD COLUMN IF NOT EXISTS database text`
	// loadSQL reads system_id and database through to_jsonb, so that it
	// reads a table of an older walrelay without those columns too.
	loadSQL = `SELECT lsn::text, updated_at, catchup::text, to_jsonb(c)->>'system_id', to_jsonb(c)->>'database' FROM ` +
		TableName + ` c WHERE slot = $1`
	// loadOldSQL reads a table of a walrelay before the catch-up snapshots.
	loadOldSQL = `SELECT lsn::text, updated_at, NULL::text, NULL::text, NULL::text FROM ` + TableName + ` WHERE slot = $1`
	// identitySQL records the store's identity (SetIdentity) in the row
	// the save before it wrote, when it is not there yet.
	identitySQL = `UPDATE ` + TableName + ` SET system_id = $2, database = $3 WHERE slot = $1
	AND (system_id IS DISTINCT FROM $2 OR database IS DISTINCT FROM $3)`
	// saveSQL updates the row only while no backend but $5 holds the slot
	// (SlotFence): no row comes back when the fence refuses it. It returns
	// whether it inserted the row (xmax = 0) rather than updated it.
	saveSQL = `INSERT INTO ` + TableName + ` (slot, lsn, updated_at, catchup) VALUES ($1, $2::text::pg_lsn, $3, $4::text::jsonb)
ON CONFLICT (slot) DO UPDATE SET lsn = EXCLUDED.lsn, updated_at = EXCLUDED.updated_at, catchup = EXCLUDED.catchup
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots r
	WHERE r.slot_name = $1 AND r.active_pid IS NOT NULL AND r.active_pid <> $5::int)
RETURNING (xmax = 0)`
	holderSQL = `SELECT active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`
	// saveWithLineageSQL is saveSQL that also writes the column lineage
	// ($6) that SaveLineage could not write for want of a row.
	saveWithLineageSQL = `INSERT INTO ` + TableName + ` (slot, lsn, updated_at, catchup, lineage) VALUES ($1, $2::text::pg_lsn, $3, $4::text::jsonb, $6::text::jsonb)
ON CONFLICT (slot) DO UPDATE SET lsn = EXCLUDED.lsn, updated_at = EXCLUDED.updated_at, catchup = EXCLUDED.catchup, lineage = EXCLUDED.lineage
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots r
	WHERE r.slot_name = $1 AND r.active_pid IS NOT NULL AND r.active_pid <> $5::int)
RETURNING (xmax = 0)`
)

// PostgresStore keeps the checkpoint in TableName, one row per slot, over a
// normal (non-replication) pgx connection. When the connection is lost, the
// call that saw it fails and the next call reconnects. Saves run with
// synchronous_commit=on, so a nil error from Save means the row is durable.
type PostgresStore struct {
	cfg  *pgx.ConnConfig
	slot string

	mu   sync.Mutex
	conn *pgx.Conn
	// opTimeout bounds each attempt of do (connecting included).
	opTimeout time.Duration
	holder    atomic.Uint32 // SetSlotHolder
	// readOnly: opened by NewPostgresReader; Load looks the table up first
	// and Save fails.
	readOnly bool
	// noLineage says why the table has no lineage column (nil: it has
	// one), and pendingLineage is the lineage SaveLineage kept for the
	// first Save, for want of a row (pgstore_lineage.go). Under mu.
	noLineage      error
	pendingLineage []byte
	// systemID and database are what Save records (SetIdentity);
	// identitySaved says the row has them. noIdentity: the table lacks the
	// columns and the role may not add them (nothing is recorded). Under mu.
	systemID, database string
	identitySaved      bool
	noIdentity         bool
	// saved: a Save of this store wrote the row (a later one that inserts
	// it re-creates a row that vanished: reinserted). log is where that is
	// warned about (SetLogger). Under mu.
	saved bool
	log   zerolog.Logger
	// walAfter is the server's WAL position after the last save
	// (WALAfterSave); 0 when unknown.
	walAfter atomic.Uint64
}

// SetLogger names where the store logs a row it re-created (Save).
func (s *PostgresStore) SetLogger(log zerolog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = log
}

// SetIdentity implements Identified.
func (s *PostgresStore) SetIdentity(systemID, database string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.systemID, s.database, s.identitySaved = systemID, database, false
}

// SetSlotHolder implements SlotFence.
func (s *PostgresStore) SetSlotHolder(pid uint32) { s.holder.Store(pid) }

// defaultOpTimeout bounds one attempt of a Load or Save: over a connection
// that went silent without an RST (a network partition) it would otherwise
// wait for TCP to give up, about 15 minutes, holding the checkpoint back
// unnoticed. Past it pgx closes the connection and do tries a new one.
const defaultOpTimeout = 30 * time.Second

// NewPostgresStore connects to dsn and creates Schema and TableName if they
// are missing (adding the catchup column to a table of an older walrelay).
// A replication=... parameter in dsn is dropped: the store needs an ordinary
// SQL connection.
func NewPostgresStore(ctx context.Context, dsn, slot string) (*PostgresStore, error) {
	s, conn, err := openPostgres(ctx, dsn, slot, false)
	if err != nil {
		return nil, err
	}
	if s.noLineage, err = ensureTable(ctx, conn); err != nil {
		_ = conn.Close(context.Background())
		return nil, err
	}
	if s.noIdentity, err = addIdentityColumns(ctx, conn); err != nil {
		_ = conn.Close(context.Background())
		return nil, err
	}
	s.conn = conn
	return s, nil
}

// openPostgres parses dsn and makes the store's first connection; with
// readOnly its sessions are read-only (default_transaction_read_only).
func openPostgres(ctx context.Context, dsn, slot string, readOnly bool) (*PostgresStore, *pgx.Conn, error) {
	if slot == "" {
		return nil, nil, errors.New("checkpoint: postgres store needs a slot name: set postgres.slot")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The DSN may hold a password: do not echo it.
		return nil, nil, fmt.Errorf("checkpoint: postgres store: parse postgres.dsn: %w", pgdsn.Wrap(err, dsn))
	}
	if cfg.ConnectTimeout == 0 { // as replication.DefaultConnectTimeout: a silent host must not hang saves
		cfg.ConnectTimeout = 10 * time.Second
	}
	delete(cfg.RuntimeParams, "replication")
	cfg.RuntimeParams["synchronous_commit"] = "on"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "walrelay-checkpoint"
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	s := &PostgresStore{cfg: cfg, slot: slot, opTimeout: defaultOpTimeout, readOnly: readOnly, log: zerolog.Nop()}
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return s, conn, nil
}

// ensureTable creates Schema and TableName when missing and adds the
// catchup and lineage columns to a table of an older walrelay. A lineage
// column the role may not add (it does not own a table created
// beforehand) is no error: noLineage says why it is missing, and the
// column lineage is then kept in data_dir only (see SaveLineage).
func ensureTable(ctx context.Context, conn *pgx.Conn) (noLineage, err error) {
	st, err := inspectTable(ctx, conn)
	if err != nil {
		return nil, pgErr("look up", err)
	}
	if r := st.Refusal(); r != nil { // the fix `walrelay check` gives (ops audit 4)
		return nil, r
	}
	if st.TableExists && !st.HasCatchup { // created by a walrelay before the catch-up snapshots
		if _, err := conn.Exec(ctx, addCatchupSQL); err != nil {
			return nil, pgErr("add column catchup to", err)
		}
	}
	if st.TableExists && !st.HasLineage { // created by a walrelay before the lineage was kept here
		if noLineage, err = addLineageColumn(ctx, conn); err != nil {
			return nil, err
		}
	}
	if st.TableExists {
		return noLineage, nil
	}
	// Check first and create only when missing: CREATE SCHEMA IF NOT EXISTS
	// needs CREATE on the database even when the schema exists.
	if !st.SchemaExists {
		if _, err := conn.Exec(ctx, createSchemaSQL); err != nil {
			return nil, pgErr("create schema for", err)
		}
	}
	if _, err := conn.Exec(ctx, createTableSQL); err != nil {
		return nil, pgErr("create", err)
	}
	return nil, nil
}

// Load returns the row for the store's slot; false when there is none.
func (s *PostgresStore) Load(ctx context.Context) (Position, bool, error) {
	var (
		text             string
		updated          *time.Time
		catchup          *string
		systemID, dbName *string
	)
	err := s.do(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		query, err := s.loadQuery(ctx, conn)
		if err != nil {
			return err
		}
		return conn.QueryRow(ctx, query, s.slot).Scan(&text, &updated, &catchup, &systemID, &dbName)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("checkpoint: load slot %q: %w", s.slot, pgErr("read", err))
	}
	lsn, ok := parseLSN(text)
	if !ok {
		return Position{}, false, fmt.Errorf("checkpoint: %s row for slot %q holds LSN %q, which does not parse", TableName, s.slot, text)
	}
	p := Position{LSN: lsn, Slot: s.slot}
	if systemID != nil {
		p.SystemID = *systemID
	}
	if dbName != nil {
		p.Database = *dbName
	}
	if updated != nil {
		p.UpdatedAt = *updated
	}
	if catchup != nil {
		if p.Catchup, err = unmarshalCatchup([]byte(*catchup)); err != nil {
			return Position{}, false, fmt.Errorf("checkpoint: %s row for slot %q: %w", TableName, s.slot, err)
		}
	}
	return p, true, nil
}

// Save upserts the row for the store's slot. p.Slot may be empty but must not
// name another slot.
func (s *PostgresStore) Save(ctx context.Context, p Position) error {
	if s.readOnly {
		return fmt.Errorf("checkpoint: LSN %s not saved: the store of slot %q was opened read-only", p.LSN, s.slot)
	}
	if p.Slot != "" && p.Slot != s.slot {
		return fmt.Errorf("checkpoint: save position for slot %q through the store of slot %q", p.Slot, s.slot)
	}
	catchup, err := marshalCatchup(p.Catchup)
	if err != nil {
		return fmt.Errorf("checkpoint: encode the catch-up of slot %q: %w", s.slot, err)
	}
	var catchupText *string
	if catchup != nil {
		t := string(catchup)
		catchupText = &t
	}
	var refused bool
	var held *int32
	err = s.do(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		save := func() (bool, error) {
			query, args := saveSQL, []any{s.slot, p.LSN.String(), p.UpdatedAt, catchupText, int32(s.holder.Load())}
			if s.pendingLineage != nil {
				query, args = saveWithLineageSQL, append(args, string(s.pendingLineage))
			}
			var inserted bool
			err := conn.QueryRow(ctx, query, args...).Scan(&inserted)
			if errors.Is(err, pgx.ErrNoRows) { // the fence refused it
				return true, nil
			}
			if err == nil {
				s.pendingLineage = nil
				s.reinserted(inserted, p)
			}
			return false, err
		}
		var err error
		if refused, err = save(); err != nil {
			return err
		}
		if !refused {
			if err := s.saveIdentity(ctx, conn); err != nil {
				return err
			}
			s.noteWALAfterSave(ctx, conn)
			return nil
		}
		err = conn.QueryRow(ctx, holderSQL, s.slot).Scan(&held)
		if errors.Is(err, pgx.ErrNoRows) {
			// The slot was dropped between the two statements (a temporary
			// slot ends with its session): nothing holds it now, so the
			// fence lets the save through.
			if refused, err = save(); err == nil && !refused {
				if err = s.saveIdentity(ctx, conn); err == nil {
					s.noteWALAfterSave(ctx, conn)
				}
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("checkpoint: save LSN %s for slot %q: %w", p.LSN, s.slot, pgErr("write", err))
	}
	if refused {
		var pid int32
		if held != nil {
			pid = *held
		}
		return fmt.Errorf("checkpoint: LSN %s not saved: slot %q is held by backend pid %d, not by this walrelay "+
			"(another walrelay streams from it now): %w", p.LSN, s.slot, pid, ErrSlotHeld)
	}
	return nil
}

// reinserted records a save that wrote the row; one that inserted it
// (inserted) after this store had saved it before means the row, or the
// table, vanished and was re-created (a table dropped under a standby pair
// is re-created by the standby's polling): it warns and has the identity
// written again. Called with mu held.
func (s *PostgresStore) reinserted(inserted bool, p Position) {
	if inserted && s.saved {
		s.identitySaved = false
		s.log.Warn().Str("slot", s.slot).Stringer("checkpoint", p.LSN).Str("table", TableName).
			Msg("the checkpoint row vanished while walrelay ran (deleted, or the table dropped and re-created): " +
				"saved it again with this process's checkpoint")
	}
	s.saved = true
}

// saveIdentity writes the store's identity into the row once (after
// SetIdentity, or when a save re-created the row). Called with mu held.
func (s *PostgresStore) saveIdentity(ctx context.Context, conn *pgx.Conn) error {
	if s.identitySaved || s.noIdentity || s.systemID == "" {
		return nil
	}
	if _, err := conn.Exec(ctx, identitySQL, s.slot, s.systemID, s.database); err != nil {
		return err
	}
	s.identitySaved = true
	return nil
}

// addIdentityColumns adds system_id and database to a table of an older
// walrelay. A role that may not (it does not own a table created
// beforehand) is no error: the identity is then not recorded (noIdentity).
func addIdentityColumns(ctx context.Context, conn *pgx.Conn) (noIdentity bool, err error) {
	var have int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = $1 AND c.relname = $2 AND a.attname IN ('system_id', 'database') AND NOT a.attisdropped`, Schema, table).Scan(&have)
	if err != nil {
		return false, pgErr("look up", err)
	}
	if have == 2 {
		return false, nil
	}
	_, err = conn.Exec(ctx, addIdentitySQL)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
		return true, nil
	}
	if err != nil {
		return false, pgErr("add columns system_id and database to", err)
	}
	return false, nil
}

// Close closes the connection.
func (s *PostgresStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.conn.Close(ctx)
	s.conn = nil
	return err
}

// do runs f on a live connection, connecting first if there is none or the
// previous one was lost. When f fails because the connection died (pgx closes
// it on network errors, on FATAL server errors such as an administrator's
// pg_terminate_backend, and when an attempt outlasts opTimeout), f is
// retried once on a new connection: Load and Save are idempotent. If that
// fails too, the next call reconnects again. f gets the attempt's context.
func (s *PostgresStore) do(ctx context.Context, f func(context.Context, *pgx.Conn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		err := s.attempt(ctx, f)
		if err == nil || s.conn != nil && !s.conn.IsClosed() {
			return err
		}
		s.conn = nil
		if attempt > 0 || ctx.Err() != nil {
			return err
		}
	}
}

// attempt is one try of do, bounded by opTimeout. Called with mu held.
func (s *PostgresStore) attempt(ctx context.Context, f func(context.Context, *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	if s.conn == nil || s.conn.IsClosed() {
		conn, err := s.connect(ctx)
		if err != nil {
			return err
		}
		s.conn = conn
	}
	return f(ctx, s.conn)
}

func (s *PostgresStore) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: connect to postgres at %s:%d for %s: %w", s.cfg.Host, s.cfg.Port, TableName, err)
	}
	return conn, nil
}

// pgErr wraps err with what was being done to TableName and, for common
// server errors, what the operator can do.
func pgErr(doing string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42501": // insufficient_privilege
			return fmt.Errorf("%s %s: %w (grant the walrelay user CREATE on the database, or create %s beforehand "+
				"and grant it SELECT, INSERT, UPDATE on the table; or use checkpoint.store: file)", doing, TableName, err, TableName)
		case "25006": // read_only_sql_transaction
			return fmt.Errorf("%s %s: %w (postgres.dsn points at a read-only server: the postgres checkpoint store needs the primary)", doing, TableName, err)
		}
	}
	return fmt.Errorf("%s %s: %w", doing, TableName, err)
}
