package snapshot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
)

// Options configures a Reader.
type Options struct {
	// Connect opens one normal (not replication) connection. It must fix the
	// text forms the decoder parses, as replication.ConnectSnapshot does
	// (TimeZone=UTC, DateStyle=ISO, IntervalStyle=postgres,
	// extra_float_digits=3, lc_monetary=C). Required.
	Connect func(ctx context.Context) (*pgx.Conn, error)
	// Snapshot is the exported snapshot to read (pg_export_snapshot or
	// CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT). Required; it must stay
	// importable until Open returns.
	Snapshot string
	// Tables to read; duplicates are read once. Order does not matter: plans
	// are ordered by (schema, name).
	Tables []Table
	// Publication, when set, restricts columns and rows to its column lists
	// and row filters (PostgreSQL 15+), as the stream does.
	Publication string
	// Parallelism is the number of connections reading at once; default 2.
	Parallelism int
	// ChunkSize is the number of rows per primary-key chunk; default 50000.
	ChunkSize int
	// BatchRows is the most rows one Batch carries; default 256.
	BatchRows int
	// Log receives one line per table planned (at debug) and a warning per
	// table read whole. The zero value logs nothing.
	Log zerolog.Logger
}

// Batch is a run of consecutive rows of one table, in chunk-key order. The
// ordinal of Rows[i] is Table.Base + Row + i.
type Batch struct {
	Table *TablePlan
	Row   uint64 // position of Rows[0] within its table, 0-based
	Rows  [][]any
}

// Reader reads one exported snapshot. Open plans it; Read reads it once;
// Close ends the readers' transactions. Methods are called from one
// goroutine; Read starts and waits for its own reader goroutines.
type Reader struct {
	opts          Options
	workers       []*worker
	plans         []*TablePlan
	total         uint64
	txID          uint32
	serverVersion int
}

type worker struct {
	r    *Reader
	id   int
	conn *pgx.Conn
}

var snapshotNameRe = regexp.MustCompile(`^[0-9A-Fa-f]+(-[0-9A-Fa-f]+)*$`)

// Open connects Parallelism readers, imports the snapshot in each, locks the
// tables (ACCESS SHARE) and plans them: columns, chunk bounds and exact row
// counts, in parallel. On error everything opened is closed; the error names
// the table involved.
func Open(ctx context.Context, opts Options) (*Reader, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	r := &Reader{opts: opts}
	if err := r.open(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (o *Options) defaults() error {
	if o.Connect == nil {
		return errors.New("snapshot: Options.Connect is required")
	}
	if !snapshotNameRe.MatchString(o.Snapshot) {
		return fmt.Errorf("snapshot: %q is not an exported snapshot name", o.Snapshot)
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 2
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 50000
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 256
	}
	o.Tables = slices.Clone(o.Tables)
	slices.SortFunc(o.Tables, func(a, b Table) int {
		return strings.Compare(a.Schema+"\x00"+a.Name, b.Schema+"\x00"+b.Name)
	})
	o.Tables = slices.Compact(o.Tables)
	return nil
}

func (r *Reader) open(ctx context.Context) error {
	for i := range r.opts.Parallelism {
		w, err := r.startWorker(ctx, i)
		if w != nil {
			r.workers = append(r.workers, w)
		}
		if err != nil {
			return err
		}
	}
	first := r.workers[0].conn
	var xmin int64
	if err := first.QueryRow(ctx, `SELECT current_setting('server_version_num')::int,
		txid_snapshot_xmin(txid_current_snapshot())`).Scan(&r.serverVersion, &xmin); err != nil {
		return fmt.Errorf("snapshot: reading the server version and snapshot xmin: %w", err)
	}
	if r.txID == 0 { // a standby assigns none: the snapshot's xmin, as before
		r.txID = uint32(xmin)
	}
	if err := r.planAll(ctx); err != nil {
		return err
	}
	for _, p := range r.plans {
		p.Base = r.total
		r.total += p.Rows
	}
	if r.total > MaxRows {
		return fmt.Errorf("snapshot: %d rows exceed the %d that snapshot event IDs can number", r.total, MaxRows)
	}
	return nil
}

// startWorker connects, begins the snapshot transaction and locks the tables.
func (r *Reader) startWorker(ctx context.Context, id int) (*worker, error) {
	conn, err := r.opts.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot: reader %d: %w", id, err)
	}
	w := &worker{r: r, id: id, conn: conn}
	if id == 0 {
		if r.txID, err = ownTxID(ctx, conn); err != nil {
			return w, fmt.Errorf("snapshot: reader %d: assigning the snapshot its transaction ID: %w", id, err)
		}
	}
	stmts := []string{
		"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		"SET TRANSACTION SNAPSHOT '" + r.opts.Snapshot + "'",
		// Deterministic, single-process scans; no timeouts on long reads,
		// while the consumer holds a reader back, or on the lock behind a DDL.
		"SET LOCAL synchronize_seqscans = off; SET LOCAL max_parallel_workers_per_gather = 0; " +
			"SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0",
	}
	if len(r.opts.Tables) > 0 {
		names := make([]string, len(r.opts.Tables))
		for i, t := range r.opts.Tables {
			names[i] = pgx.Identifier{t.Schema, t.Name}.Sanitize()
		}
		stmts = append(stmts, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS SHARE MODE")
	}
	for _, s := range stmts {
		if _, err := conn.PgConn().Exec(ctx, s).ReadAll(); err != nil {
			return w, fmt.Errorf("snapshot: reader %d: %s: %w%s", id, abbrev(s), err, r.deniedHint(ctx, conn, err))
		}
	}
	return w, nil
}

// planAll plans every table on the workers, in parallel.
func (r *Reader) planAll(ctx context.Context) error {
	r.plans = make([]*TablePlan, len(r.opts.Tables))
	next := make(chan int, len(r.opts.Tables))
	for i := range r.opts.Tables {
		next <- i
	}
	close(next)
	return r.each(ctx, func(ctx context.Context, w *worker) error {
		for i := range next {
			p, err := w.plan(ctx, r.opts.Tables[i])
			if err == nil {
				err = w.bound(ctx, p)
			}
			if err != nil {
				return err
			}
			r.plans[i] = p
			r.logPlan(p)
		}
		return nil
	})
}

func (r *Reader) logPlan(p *TablePlan) {
	log := r.opts.Log
	if len(p.ChunkKey) == 0 {
		log.Warn().Str("table", p.Table.String()).Uint64("rows", p.Rows).
			Msg("snapshot: table has no primary key or replica identity index; reading it whole, in one chunk")
	}
	// Debug: one line per table; "snapshot started" has the totals.
	ev := log.Debug().Str("table", p.Table.String()).Uint64("rows", p.Rows)
	if p.Estimate >= 0 { // -1: never analysed
		ev = ev.Int64("rows_estimated", p.Estimate)
	}
	ev.Int("chunks", p.Chunks).Strs("chunk_key", p.ChunkKey).Msg("snapshot table planned")
}

// each runs f on every worker concurrently; the first error cancels the
// others and is returned.
func (r *Reader) each(ctx context.Context, f func(context.Context, *worker) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Go(func() {
			if err := f(ctx, w); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// Plans returns the tables in (schema, name) order.
func (r *Reader) Plans() []*TablePlan { return r.plans }

// Total returns the exact number of rows in the snapshot.
func (r *Reader) Total() uint64 { return r.total }

// TxID returns the snapshot's own transaction ID (32 bits), for the read
// events' source.txId (ownTxID).
func (r *Reader) TxID() uint32 { return r.txID }

// ownTxID returns a transaction ID that no change in the stream has: it is
// assigned (txid_current) in a transaction that is rolled back at once, so
// nothing of it is decoded and no xid stays assigned while the snapshot is
// read (one would keep every logical slot creation on the server waiting).
// Debezium's snapshot reads carry txid_current() of their own snapshot
// transaction likewise; the snapshot's xmin, used before, is the xid of a
// transaction that was open at the snapshot, or of the next one to start,
// which the stream then publishes with the same txId. On a standby, which
// assigns none, it is 0.
func ownTxID(ctx context.Context, conn *pgx.Conn) (uint32, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // closing the connection ends it anyway
	var id int64
	if err := tx.QueryRow(ctx, "SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE txid_current() END").Scan(&id); err != nil {
		return 0, err
	}
	return uint32(id), tx.Rollback(ctx) // the low 32 bits: the xid pgoutput's Begin carries
}

// Close ends the readers' transactions and closes their connections.
func (r *Reader) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, w := range r.workers {
		_ = w.conn.Close(ctx)
	}
	r.workers = nil
}

func abbrev(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
