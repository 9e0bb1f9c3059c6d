package snapshot

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/decoder"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/pgident"
)

// Table names a table to snapshot.
type Table struct {
	Schema string
	Name   string
}

// String returns "schema.name" as pgident.Format prints it (a part that
// needs it double-quoted), which ParseTable reads back.
func (t Table) String() string { return pgident.Format(t.Schema, t.Name) }

// ParseTable parses "schema.name" with pgident's rules: the first dot
// separates, a double-quoted part may hold dots ("x.y".z).
func ParseTable(s string) (Table, error) {
	schema, name, ok := pgident.Cut(s)
	if !ok {
		return Table{}, fmt.Errorf("snapshot: table %q is not schema.table", s)
	}
	return Table{Schema: schema, Name: name}, nil
}

// TablePlan is what Open learned about one table inside the snapshot.
// Fields are set by Open and read-only afterwards.
type TablePlan struct {
	Table Table
	// Relation describes the table as the stream decoder would (Version 1);
	// Decoder converts its text rows.
	Relation *event.Relation
	Decoder  *decoder.RowDecoder
	// ChunkKey names the columns chunks are ordered and split by (the primary
	// key, else the replica identity index); empty when the table is read
	// whole.
	ChunkKey []string
	// Estimate is pg_class.reltuples (-1 when the table was never analyzed).
	Estimate int64
	// Rows is the exact number of rows the snapshot holds; Chunks how many
	// chunks they are read in.
	Rows   uint64
	Chunks int
	// Base is the snapshot-wide ordinal of the table's first row: the rows of
	// the tables before it in (schema, name) order.
	Base uint64

	oid       uint32
	kind      byte     // pg_class.relkind: 'r' or 'p'
	cols      []column // published columns, attnum order
	keyTypes  []string // SQL types of ChunkKey, for casting bounds
	filter    string   // publication row filter, "" for none
	bounds    [][][]byte
	chunkSize int
}

// column is one published column.
type column struct {
	name    string
	typeOID uint32
	typmod  int32
	sqlType string // format_type(atttypid, atttypmod)
}

// rowsIn returns the number of rows chunk c holds.
func (p *TablePlan) rowsIn(c int) uint64 {
	if c < len(p.bounds) {
		return uint64(p.chunkSize)
	}
	return p.Rows - uint64(len(p.bounds))*uint64(p.chunkSize)
}

// from is the FROM target: ONLY for a plain table (inheritance children are
// published, and read, on their own); a partitioned table published via its
// root is read with its partitions.
func (p *TablePlan) from() string {
	name := pgx.Identifier{p.Table.Schema, p.Table.Name}.Sanitize()
	if p.kind == 'p' {
		return name
	}
	return "ONLY " + name
}

// keyList is the chunk key as a column list, "k1", "k2".
func (p *TablePlan) keyList() string { return quoteList(p.ChunkKey) }

// keyRow is the chunk key as a row value, (k1, k2).
func (p *TablePlan) keyRow() string { return "(" + p.keyList() + ")" }

// paramRow is a row of text parameters cast to the key's types, starting at
// $first: ($1::int8, $2::text).
func (p *TablePlan) paramRow(first int) string {
	parts := make([]string, len(p.keyTypes))
	for i, t := range p.keyTypes {
		parts[i] = fmt.Sprintf("$%d::%s", first+i, t)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// where joins conditions and the publication row filter into a WHERE clause
// ("" when there are none).
func (p *TablePlan) where(conds ...string) string {
	if p.filter != "" {
		conds = append(conds, "("+p.filter+")")
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// chunkQuery returns the SELECT of chunk c and its parameters.
func (p *TablePlan) chunkQuery(c int) (string, [][]byte) {
	cols := make([]string, len(p.cols))
	for i, col := range p.cols {
		cols[i] = col.name
	}
	sql := "SELECT " + quoteList(cols) + " FROM " + p.from()
	if len(p.ChunkKey) == 0 {
		return sql + p.where(), nil
	}
	var conds []string
	var args [][]byte
	if c > 0 {
		conds = append(conds, p.keyRow()+" > "+p.paramRow(1))
		args = append(args, p.bounds[c-1]...)
	}
	if c < len(p.bounds) {
		conds = append(conds, p.keyRow()+" <= "+p.paramRow(len(args)+1))
		args = append(args, p.bounds[c]...)
	}
	return sql + p.where(conds...) + " ORDER BY " + p.keyList(), args
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(q, ", ")
}
