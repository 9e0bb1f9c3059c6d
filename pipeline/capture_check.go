package pipeline

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/replication"
)

// RenamedListedTables returns the tables of listed (postgres.tables) that
// no longer exist under their names but whose OID, kept in dir's
// captured-tables.json by walrelay's last start, is a table under another
// name now, keyed by the listed name: the tables `walrelay run` refuses to
// start with (RenamedTableError). It only reads dir. For `walrelay check`.
func RenamedListedTables(ctx context.Context, db *pgx.Conn, dir string, listed []string) (map[string]replication.RenamedTable, error) {
	known := loadFollowFile(dir, zerolog.Nop())
	if len(known) == 0 {
		return nil, nil
	}
	byName, err := tablesByName(ctx, db, listed)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, n := range byName {
		found[n] = true
	}
	var oids []uint32
	for _, n := range listed {
		if oid, ok := known[n]; ok && !found[n] {
			oids = append(oids, oid)
		}
	}
	current, err := tablesByOID(ctx, db, oids)
	if err != nil {
		return nil, err
	}
	out := map[string]replication.RenamedTable{}
	for _, n := range listed {
		if oid, ok := known[n]; ok && !found[n] && current[oid] != "" {
			out[n] = replication.RenamedTable{Name: current[oid], OID: oid}
		}
	}
	return out, nil
}
