package pipeline

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/replication"
)

// partDB returns a connection to a fresh database holding testenv.PartitionedDDL and ddl.
func partDB(t *testing.T, ddl ...string) *pgx.Conn {
	t.Helper()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, append([]string{testenv.PartitionedDDL}, ddl...)...)
	return testenv.Connect(t, dsn)
}

func partRules(t *testing.T, src string) *filter.Rules {
	t.Helper()
	rs, err := filter.Parse("rules.yaml", []byte(src), "")
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	return rs
}

// partPub returns the publication's pubviaroot and its
// pg_publication_tables, sorted.
func partPub(t *testing.T, db *pgx.Conn, pub string) (bool, string) {
	t.Helper()
	ctx := context.Background()
	p, err := replication.ReadPublication(ctx, db, pub)
	if err != nil || !p.Exists {
		t.Fatalf("publication %s: %+v, %v", pub, p, err)
	}
	tables, err := publicationTables(ctx, db, pub)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(tables))
	for i, tb := range tables {
		names[i] = tb.String()
	}
	slices.Sort(names)
	return p.ViaRoot, strings.Join(names, ",")
}

// syncLogged runs syncPublication, recording what beforeAdd was given and
// the log output.
func syncLogged(t *testing.T, db *pgx.Conn, rules *filter.Rules) (changed bool, added []string, log string) {
	t.Helper()
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	changed, err := syncPublication(ctx, db, "p", rules, nil, func(_ context.Context, a []string) error {
		added = append(added, a...)
		return nil
	}, zerolog.New(&buf))
	if err != nil {
		t.Fatalf("syncPublication: %v", err)
	}
	return changed, added, buf.String()
}

// TestSyncPublicationPartitionedRoot: rules that capture a partitioned table
// (by name, or by a glob that also matches its partitions) give a
// publication with publish_via_partition_root that holds the partitioned
// table and not its partitions, so every change arrives under the root's
// name; the next sync (a restart, a poll) changes nothing, and a partition
// created later needs no change either (and so no catch-up snapshot of it
// under its own name).
func TestSyncPublicationPartitionedRoot(t *testing.T) {
	t.Parallel()
	for _, rules := range []string{"rules:\n  - tables: [public.pt, public.plain]\n", "rules:\n  - tables: [\"public.*\"]\n", "default: capture\n"} {
		db := partDB(t)
		rs := partRules(t, rules)
		if changed, _, _ := syncLogged(t, db, rs); !changed {
			t.Fatalf("%q: first sync reports no change", rules)
		}
		if viaRoot, tables := partPub(t, db, "p"); !viaRoot || tables != "public.plain,public.pt" {
			t.Fatalf("%q: via root %v, tables %s; want true, public.plain,public.pt", rules, viaRoot, tables)
		}
		rows, err := db.Query(context.Background(), "SELECT prrelid::regclass::text FROM pg_publication_rel ORDER BY 1")
		var direct []string
		if err == nil {
			direct, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil || strings.Join(direct, ",") != "plain,pt" {
			t.Errorf("%q: pg_publication_rel holds %v (%v), want plain and pt only", rules, direct, err)
		}
		testenv.ExecDSN(t, db.Config().ConnString(), "CREATE TABLE pt_c PARTITION OF pt FOR VALUES FROM (20) TO (30)")
		if changed, added, log := syncLogged(t, db, rs); changed || len(added) > 0 {
			t.Errorf("%q: second sync changed %v, added %v, log %q; want nothing", rules, changed, added, log)
		}
	}
}

// TestSyncPublicationSetsViaRoot: a managed publication an earlier walrelay
// made of a glob's partitions, without publish_via_partition_root, gets
// the setting (logged), the partitioned table (announced to beforeAdd, for
// its catch-up snapshot) and loses the partitions, in one transaction.
func TestSyncPublicationSetsViaRoot(t *testing.T) {
	t.Parallel()
	db := partDB(t, "CREATE PUBLICATION p FOR TABLE pt_a, pt_b1, plain")
	changed, added, log := syncLogged(t, db, partRules(t, "rules:\n  - tables: [\"public.*\"]\n"))
	if !changed || strings.Join(added, ",") != "public.pt" {
		t.Errorf("changed %v, beforeAdd got %v; want true, [public.pt]", changed, added)
	}
	if !strings.Contains(log, replication.ViaRootSetMessage) || !strings.Contains(log, `"removed":["public.pt_a","public.pt_b1"]`) {
		t.Errorf("log %q lacks the via-root line or the removed partitions", log)
	}
	if viaRoot, tables := partPub(t, db, "p"); !viaRoot || tables != "public.plain,public.pt" {
		t.Errorf("via root %v, tables %s; want true, public.plain,public.pt", viaRoot, tables)
	}
}

// TestSyncPublicationPartitionOnly: rules that capture one partition and
// not its partitioned table publish that partition under its own name.
func TestSyncPublicationPartitionOnly(t *testing.T) {
	t.Parallel()
	db := partDB(t)
	syncLogged(t, db, partRules(t, "rules:\n  - tables: [public.pt_a, public.pt_b]\n"))
	if viaRoot, tables := partPub(t, db, "p"); !viaRoot || tables != "public.pt_a,public.pt_b" {
		t.Errorf("via root %v, tables %s; want true, public.pt_a,public.pt_b", viaRoot, tables)
	}
}

// TestUnmanagedPublicationNotViaRoot: an unmanaged publication that holds a
// partitioned table without publish_via_partition_root draws a warning with
// the fix, and no false "missing" warning for the partitions it does
// publish; with the setting, neither.
func TestUnmanagedPublicationNotViaRoot(t *testing.T) {
	t.Parallel()
	db := partDB(t, "CREATE PUBLICATION p FOR TABLE pt")
	check := func(rules string) string {
		var buf bytes.Buffer
		if err := checkUnmanagedPublication(context.Background(), db, "p", partRules(t, rules), nil, zerolog.New(&buf)); err != nil {
			t.Fatalf("checkUnmanagedPublication: %v", err)
		}
		return buf.String()
	}
	log := check("rules:\n  - tables: [\"public.pt*\"]\n")
	if !strings.Contains(log, "lacks publish_via_partition_root") ||
		!strings.Contains(log, `ALTER PUBLICATION \"p\" SET (publish_via_partition_root = true)`) ||
		!strings.Contains(log, `"partitioned_tables":["public.pt"]`) {
		t.Errorf("log %q lacks the via-root warning with its fix", log)
	}
	if strings.Contains(log, "does not hold") {
		t.Errorf("log %q warns of missing tables; the publication publishes pt's partitions", log)
	}
	testenv.ExecDSN(t, db.Config().ConnString(), "ALTER PUBLICATION p SET (publish_via_partition_root = true)")
	if log := check("rules:\n  - tables: [public.pt]\n"); log != "" {
		t.Errorf("with the setting, log %q; want nothing", log)
	}
	if log := check("rules:\n  - tables: [public.pt, public.plain]\n"); !strings.Contains(log, `"missing":["public.plain"]`) {
		t.Errorf("log %q does not name public.plain as missing", log)
	}
}

// TestSnapshotTablesPartitionOnce: postgres.tables that lists a partitioned
// table and one of its partitions snapshots the partition once, as part of
// the partitioned table, when the publication publishes via the root (as
// the stream does); without the setting each is read as itself.
func TestSnapshotTablesPartitionOnce(t *testing.T) {
	t.Parallel()
	db := partDB(t, "CREATE PUBLICATION p FOR TABLE pt, pt_b1, plain")
	var buf bytes.Buffer
	s := &session{cfg: &config.Config{}, db: db, log: zerolog.New(&buf)}
	s.cfg.Postgres.Publication = "p"
	s.cfg.Postgres.Tables = []string{"public.pt_b1", "public.pt", "public.plain"}
	names := func() string {
		tables, err := s.snapshotTables(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tb := range tables {
			out = append(out, tb.String())
		}
		return strings.Join(out, ",")
	}
	if got := names(); got != "public.pt_b1,public.pt,public.plain" {
		t.Errorf("without via root: snapshot tables %s, want all three", got)
	}
	testenv.ExecDSN(t, db.Config().ConnString(), "ALTER PUBLICATION p SET (publish_via_partition_root = true)")
	if got := names(); got != "public.pt,public.plain" {
		t.Errorf("via root: snapshot tables %s, want public.pt,public.plain", got)
	}
	if !strings.Contains(buf.String(), `"tables":["public.pt_b1"]`) {
		t.Errorf("log %q does not name the partition read with its root", buf.String())
	}
}
