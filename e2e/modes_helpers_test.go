package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5"
)

// modeRun is one value-mode test's setting: a table (created by ddl, with
// the marker), the config keys to set, and the rows to write once the
// relay runs.
type modeRun struct {
	ddl, table string
	set        map[string]string
	rows       func(t *testing.T, conn *pgx.Conn)
}

// start creates the database, starts a relay on the table with the
// settings (Avro with the embedded registry when avro is set) and writes the
// rows; it returns what the caller needs to collect them.
func (m modeRun) start(t *testing.T, avro bool) (*relayConfig, *pgx.Conn, []string, string) {
	t.Helper()
	dsn, brokers, conn := newTestDB(t, m.ddl+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, m.table, markerTable)
	var url string
	if avro {
		url = avroConfig(t, cfg)
	}
	for k, v := range m.set {
		cfg.set(k, v)
	}
	startRelay(t, cfg)
	m.rows(t, conn)
	return cfg, conn, brokers, url
}

// jsonRecords runs m in JSON and returns the table's records in commit
// order, failing the test unless there are want of them.
func (m modeRun) jsonRecords(t *testing.T, want int) []*rec {
	t.Helper()
	cfg, conn, brokers, _ := m.start(t, false)
	col := newCollector(t, brokers, cfg.topics()...)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	recs := byTopic(col.recs)[cfg.topic(m.table)]
	if len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	return recs
}

// avroRecords is jsonRecords in Avro, the records decoded with the
// schemas walrelay registered.
func (m modeRun) avroRecords(t *testing.T, want int) []*avroRec {
	t.Helper()
	cfg, conn, brokers, url := m.start(t, true)
	col := newAvroCollector(t, brokers, url, cfg.topics()...)
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	recs := col.byTopic(cfg.topic(m.table))
	if len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	return recs
}

// checkAfterJSON compares, record by record, the raw JSON text of the named
// after columns with want (a JSON text per column).
func checkAfterJSON(t *testing.T, recs []*rec, want []map[string]string) {
	t.Helper()
	for i, r := range recs {
		var v struct{ After map[string]json.RawMessage }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		for k, w := range want[i] {
			if got := string(v.After[k]); got != w {
				t.Errorf("record %d (%s): after.%s = %s, want %s", i, r.ID, k, got, w)
			}
		}
	}
}

// afterRecord returns the Value record of an envelope schema (the type of
// its nullable after field).
func afterRecord(s avro.Schema) *avro.RecordSchema {
	for _, f := range s.(*avro.RecordSchema).Fields() {
		if f.Name() == "after" {
			return resolveRef(f.Type().(*avro.UnionSchema).Types()[1]).(*avro.RecordSchema)
		}
	}
	panic("envelope schema without an after field: " + s.String())
}
