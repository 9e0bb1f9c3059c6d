package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/internal/pgident"
)

// tablesByName returns the OIDs of the tables (or partitioned tables)
// named by names (schema.table as pgident reads it), each with its name as
// given; names that are no table are left out.
func tablesByName(ctx context.Context, db *pgx.Conn, names []string) (map[uint32]string, error) {
	schemas, tables := make([]string, len(names)), make([]string, len(names))
	for i, n := range names {
		schemas[i], tables[i], _ = pgident.Cut(n) // a malformed name finds no table
	}
	rows, err := db.Query(ctx, `SELECT c.oid, x.i::int FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(s, t, i)
		JOIN pg_namespace n ON n.nspname = x.s
		JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.t AND c.relkind IN ('r', 'p')`, schemas, tables)
	if err != nil {
		return nil, fmt.Errorf("postgres: looking up the tables of postgres.tables: %w", err)
	}
	out := map[uint32]string{}
	var oid uint32
	var i int
	_, err = pgx.ForEachRow(rows, []any{&oid, &i}, func() error {
		if i < 1 || i > len(names) {
			return fmt.Errorf("row %d of %d", i, len(names))
		}
		out[oid] = names[i-1]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: looking up the tables of postgres.tables: %w", err)
	}
	return out, nil
}

// tablesByOID returns the current name (pgident.Format) of each of oids
// that is still a table (or partitioned table), keyed by OID.
func tablesByOID(ctx context.Context, db *pgx.Conn, oids []uint32) (map[uint32]string, error) {
	out := map[uint32]string{}
	if len(oids) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `SELECT c.oid, n.nspname, c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND c.oid = ANY($1::oid[])`, oids)
	if err != nil {
		return nil, fmt.Errorf("postgres: looking up the tables of postgres.tables by OID: %w", err)
	}
	var oid uint32
	var schema, table string
	_, err = pgx.ForEachRow(rows, []any{&oid, &schema, &table}, func() error {
		out[oid] = pgident.Format(schema, table)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: looking up the tables of postgres.tables by OID: %w", err)
	}
	return out, nil
}

func mapKeys(m map[uint32]string) []uint32 { return slices.Collect(maps.Keys(m)) }

// currentNames are the current names of follow, in its order, without
// repeats.
func currentNames(follow []followedTable) []string {
	out := make([]string, 0, len(follow))
	for _, f := range follow {
		if !slices.Contains(out, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// renameCatchupTables returns cu with the tables of renames (old name ->
// new name) under their new names, and whether anything changed. The old
// names stay when cu has a boundary (see renameCatchup).
func renameCatchupTables(cu *checkpoint.Catchup, renames map[string]string) (*checkpoint.Catchup, bool) {
	next := *cu
	next.Tables = nil
	changed := false
	for _, t := range cu.Tables {
		n, ok := renames[t]
		if !ok || n == t {
			next.Tables = append(next.Tables, t)
			continue
		}
		changed = true
		next.Tables = append(next.Tables, n)
		if cu.Boundary != 0 {
			next.Tables = append(next.Tables, t)
		}
		if cu.Current == t {
			next.Current = n
		}
	}
	slices.Sort(next.Tables)
	next.Tables = slices.Compact(next.Tables)
	return &next, changed
}

// followFile is where the OIDs of postgres.tables are kept in the data
// directory, rewritten at each session start: a start that no longer finds
// a listed table names the table that has its OID now.
const followFile = "captured-tables.json"

// loadFollowFile reads followFile from dir: schema.table -> OID. A file
// that is missing or does not read gives none (logged): it only improves
// an error message.
func loadFollowFile(dir string, log zerolog.Logger) map[string]uint32 {
	b, err := os.ReadFile(filepath.Join(dir, followFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var m map[string]uint32
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		log.Warn().Err(err).Str("file", filepath.Join(dir, followFile)).Msg("ignoring the saved OIDs of postgres.tables")
		return nil
	}
	return m
}

// saveFollowFile writes the OID of each listed name of follow into dir,
// atomically.
func saveFollowFile(dir string, follow []followedTable) error {
	m := make(map[string]uint32, len(follow))
	for _, f := range follow {
		m[f.Listed] = f.OID
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeDataFile(dir, followFile, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
