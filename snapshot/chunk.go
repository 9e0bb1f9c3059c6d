package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// ChunkOptions configures ReadChunk.
type ChunkOptions struct {
	Table Table
	// Publication, as Options.Publication: its column list and row filter
	// (PostgreSQL 15+) restrict the columns and rows read. "" for none.
	Publication string
	// After is the text form of the chunk key of the last row already read,
	// one value per ChunkKey column (a previous Chunk's Last); nil reads from
	// the table's start.
	After []string
	// Limit is the most rows to read; 0 plans only (no rows are read).
	Limit int
	// Log receives one debug line per chunk read. The zero value logs nothing.
	Log zerolog.Logger
}

// Chunk is one chunk of a table read by ReadChunk.
type Chunk struct {
	// Plan has Table, Relation, Decoder and ChunkKey set; Rows, Chunks and
	// Base are not.
	Plan *TablePlan
	// Rows are the decoded rows (Plan.Decoder.DecodeRow), in chunk-key
	// order, at most Limit.
	Rows [][]any
	// Last is the text form of the last row's chunk key columns, as
	// PostgreSQL printed them in the result: the After of the next chunk.
	// nil when Rows is empty.
	Last []string
	// KeyColumns is the index in Plan.Relation.Columns of each ChunkKey
	// column, in ChunkKey order.
	KeyColumns []int
	// Snapshot is the transaction snapshot the chunk was read in, as
	// pg_current_snapshot() prints it: "xmin:xmax:xip,xip,...". It tells
	// which committed transactions the rows reflect.
	Snapshot string
}

// ErrNoChunkKey is wrapped by ReadChunk's error when the table has no usable
// chunk key: no primary key nor replica identity index, or a key column
// outside the publication's column list.
var ErrNoChunkKey = errors.New("no usable chunk key")

// ErrNoTable is wrapped by ReadChunk's and Open's error when the table does
// not exist (it was dropped, or never created).
var ErrNoTable = errors.New("table does not exist")

// ReadChunk reads one chunk of o.Table on conn, for DBLog-style incremental
// snapshots: the rows whose chunk key is greater than o.After, in chunk-key
// order, at most o.Limit of them. The chunk key is the replica identity
// index when the table's replica identity is an index ('i'), else its
// primary key, else its replica identity index.
//
// conn is an idle normal connection set up as replication.ConnectSnapshot
// (or ConnectSQL) does (the decoder parses its text forms); the caller owns it and must not use
// it concurrently. ReadChunk runs one short REPEATABLE READ READ ONLY
// transaction: it locks the table (ACCESS SHARE) before its snapshot is
// taken, plans it as Open does and reads the rows, so the plan's Relation
// always describes the rows even when an ALTER TABLE commits meanwhile.
//
// On error the transaction is rolled back (conn stays usable unless ctx was
// cancelled mid-query) and the error names the table, and After where it
// matters; it wraps ErrNoTable for a missing table and ErrNoChunkKey for a
// table without a usable chunk key.
func ReadChunk(ctx context.Context, conn *pgx.Conn, o ChunkOptions) (*Chunk, error) {
	if o.Limit < 0 {
		return nil, fmt.Errorf("snapshot: chunk of %s: Limit %d is negative", o.Table, o.Limit)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("snapshot: chunk of %s: begin: %w", o.Table, err)
	}
	c, err := readChunkTx(ctx, conn, o)
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx) // a failed rollback closes conn
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("snapshot: chunk of %s after %v: commit: %w", o.Table, o.After, err)
	}
	o.Log.Debug().Str("table", o.Table.String()).Strs("after", o.After).Int("rows", len(c.Rows)).
		Strs("last", c.Last).Msg("snapshot chunk read")
	return c, nil
}

// readChunkTx is ReadChunk inside its transaction.
func readChunkTx(ctx context.Context, conn *pgx.Conn, o ChunkOptions) (*Chunk, error) {
	// No statement or lock timeout of the role or database applies (in one
	// round trip with the lock): behind a DDL the lock waits, and a long
	// chunk reads, instead of being cancelled and retried forever; conn may
	// be a catalog connection that keeps the DBA's timeouts otherwise.
	lock := "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0; " +
		"LOCK TABLE " + pgx.Identifier{o.Table.Schema, o.Table.Name}.Sanitize() + " IN ACCESS SHARE MODE"
	if _, err := conn.PgConn().Exec(ctx, lock).ReadAll(); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000") {
			return nil, fmt.Errorf("snapshot: %s: %w (%s)", o.Table, ErrNoTable, pgErr.Message)
		}
		return nil, fmt.Errorf("snapshot: chunk of %s: locking it: %w", o.Table, err)
	}
	// The transaction's snapshot is taken here, by its first query.
	var snap string
	if err := conn.QueryRow(ctx, "SELECT pg_catalog.pg_current_snapshot()::text").Scan(&snap); err != nil {
		return nil, fmt.Errorf("snapshot: chunk of %s: reading its snapshot: %w", o.Table, err)
	}
	version, err := serverVersion(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("snapshot: chunk of %s: %w", o.Table, err)
	}
	r := &Reader{opts: Options{Publication: o.Publication, Log: o.Log}, serverVersion: version}
	p, err := (&worker{r: r, conn: conn}).planKeyed(ctx, o.Table, true)
	if err != nil {
		return nil, err
	}
	c := &Chunk{Plan: p, Snapshot: snap}
	for _, k := range p.ChunkKey {
		c.KeyColumns = append(c.KeyColumns, slices.IndexFunc(p.Relation.Columns, func(col event.Column) bool {
			return col.Name == k
		}))
	}
	if o.Limit == 0 {
		return c, nil
	}
	if len(o.After) != 0 && len(o.After) != len(p.ChunkKey) {
		return nil, fmt.Errorf("snapshot: chunk of %s: After %q has %d values, chunk key %v has %d columns",
			o.Table, o.After, len(o.After), p.ChunkKey, len(p.ChunkKey))
	}
	if err := c.read(ctx, conn, o); err != nil {
		return nil, err
	}
	return c, nil
}

// read runs the chunk's SELECT and decodes its rows into c.
func (c *Chunk) read(ctx context.Context, conn *pgx.Conn, o ChunkOptions) error {
	p := c.Plan
	sql, args := p.afterQuery(o.After, o.Limit)
	last := make([][]byte, len(c.KeyColumns))
	var failed error
	rr := conn.PgConn().ExecParams(ctx, sql, args, nil, nil, nil)
	for rr.NextRow() {
		vals := rr.Values()
		row, err := p.Decoder.DecodeRow(vals)
		if err != nil {
			failed = fmt.Errorf("snapshot: %s chunk after %q row %d: %w", p.Table, o.After, len(c.Rows), err)
			break
		}
		c.Rows = append(c.Rows, row)
		for i, k := range c.KeyColumns {
			last[i] = append(last[i][:0], vals[k]...) // vals alias the read buffer
		}
	}
	_, err := rr.Close()
	if failed != nil {
		return failed
	}
	if err != nil {
		return fmt.Errorf("snapshot: reading %s chunk after %q: %w", p.Table, o.After, err)
	}
	if len(c.Rows) > 0 {
		c.Last = make([]string, len(last))
		for i, b := range last {
			c.Last[i] = string(b)
		}
	}
	return nil
}

// afterQuery returns the SELECT of at most limit rows whose chunk key is
// greater than after (from the start when after is empty), and its
// parameters. p must have a chunk key.
func (p *TablePlan) afterQuery(after []string, limit int) (string, [][]byte) {
	cols := make([]string, len(p.cols))
	for i, col := range p.cols {
		cols[i] = col.name
	}
	var conds []string
	var args [][]byte
	if len(after) > 0 {
		conds = append(conds, p.keyRow()+" > "+p.paramRow(1))
		for _, a := range after {
			args = append(args, []byte(a))
		}
	}
	return "SELECT " + quoteList(cols) + " FROM " + p.from() + p.where(conds...) +
		" ORDER BY " + p.keyList() + " LIMIT " + strconv.Itoa(limit), args
}

// serverVersion returns the server_version_num of conn's server, from the
// server_version it reported at startup, else by asking.
func serverVersion(ctx context.Context, conn *pgx.Conn) (int, error) {
	parts := strings.FieldsFunc(conn.PgConn().ParameterStatus("server_version"), func(r rune) bool {
		return r < '0' || r > '9'
	})
	if len(parts) >= 2 {
		major, err1 := strconv.Atoi(parts[0])
		minor, err2 := strconv.Atoi(parts[1])
		if err1 == nil && err2 == nil && major >= 10 {
			return major*10000 + minor, nil
		}
	}
	var v int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the server version: %w", err)
	}
	return v, nil
}
