package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pythonWithConfluent returns WALRELAY_TEST_PYTHON, a Python with
// confluent-kafka[avro,schemaregistry] (.ci/run creates one in a venv). The
// test is skipped, saying so, when the variable is unset; a Python without
// the client fails it.
func pythonWithConfluent(t *testing.T) string {
	t.Helper()
	py := os.Getenv("WALRELAY_TEST_PYTHON")
	if py == "" {
		t.Skip("WALRELAY_TEST_PYTHON is not set: no Python with confluent-kafka[avro,schemaregistry] " +
			"to read the topics with Confluent's own client (.ci/run provides one)")
	}
	out, err := exec.Command(py, "-c", "import confluent_kafka.schema_registry.avro, fastavro; print(confluent_kafka.version()[0])").CombinedOutput()
	if err != nil {
		t.Fatalf("WALRELAY_TEST_PYTHON=%s cannot import confluent_kafka's Avro support: %v\n%s", py, err, out)
	}
	t.Logf("confluent-kafka %s", bytes.TrimSpace(out))
	return py
}

// pyRecord is one line of pyconsumer/consume.py.
type pyRecord struct {
	Topic         string         `json:"topic"`
	Partition     int32          `json:"partition"`
	Offset        int64          `json:"offset"`
	KeySchemaID   *uint32        `json:"key_schema_id"`
	ValueSchemaID *uint32        `json:"value_schema_id"`
	CeID          string         `json:"ce_id"`
	Key           map[string]any `json:"key"`
	Value         map[string]any `json:"value"`
	Error         string         `json:"error"`
}

// runPyConsumer reads topics with Confluent's Python client through the
// registry at url and returns its records by topic/partition/offset.
func runPyConsumer(t *testing.T, py string, brokers []string, url string, latest bool, topics ...string) map[string]*pyRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{filepath.Join("pyconsumer", "consume.py"), "--brokers", strings.Join(brokers, ","), "--registry", url}
	if latest {
		args = append(args, "--latest")
	}
	cmd := exec.CommandContext(ctx, py, append(args, topics...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("consume.py (latest=%v): %v\n%s", latest, err, stderr.Bytes())
	}
	recs := map[string]*pyRecord{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r pyRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("consume.py output %q: %v", sc.Bytes(), err)
		}
		if r.Error != "" {
			t.Errorf("Confluent's deserializer failed on %s[%d]@%d (latest=%v): %s", r.Topic, r.Partition, r.Offset, latest, r.Error)
		}
		recs[fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset)] = &r
	}
	return recs
}

// TestAvroConfluentPythonClient: Confluent's Python client
// (confluent-kafka's AvroDeserializer) reads and deserializes every record
// through the registry, for a relay with the embedded registry and for a
// relay configured with an external registry URL (the first relay's), with
// the writer's schema and with the latest version as reader schema.
func TestAvroConfluentPythonClient(t *testing.T) {
	t.Parallel()
	py := pythonWithConfluent(t)
	dsn, brokers, conn := newTestDB(t, `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE py_a (id int PRIMARY KEY, n numeric(10,3), v numeric, m money, ts timestamp, tz timestamptz,
			d date, t time, iv interval, j jsonb, u uuid, arr int4[], e mood, b bytea, bits bit(5), f float8, note text);
		CREATE TABLE py_b (id bigint PRIMARY KEY, note text, amount numeric(12,2));`+markerDDL)
	cfgA := newRelayConfig(t, dsn, brokers, "public.py_a", markerTable)
	url := avroConfig(t, cfgA)
	startRelay(t, cfgA)
	cfgB := newRelayConfig(t, dsn, brokers, "public.py_b") // no marker: its inserts would reach relay A's topics too
	cfgB.Publication = "walrelay_b"
	cfgB.set("postgres.publication", cfgB.Publication)
	cfgB.set("format", "avro")
	cfgB.set("schema_registry.url", url)
	startRelay(t, cfgB)

	mustExec(t, conn, `INSERT INTO py_a VALUES (1, 12345.678, -1.50, 1234.56, '2024-01-02 03:04:05.123456',
		'2024-01-02 03:04:05.5+02', '2024-02-29', '03:04:05.25', '1 day 2 hours', '{"k": [1, 2]}',
		'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,NULL,3}', 'happy', '\xdead', B'10110', 'NaN', 'first')`)
	mustExec(t, conn, "INSERT INTO py_a (id) VALUES (2)")
	mustExec(t, conn, "UPDATE py_a SET note = 'updated', n = -0.001 WHERE id = 1")
	mustExec(t, conn, "DELETE FROM py_a WHERE id = 2")
	mustExec(t, conn, "ALTER TABLE py_a ADD COLUMN extra text; INSERT INTO py_a (id, extra) VALUES (3, 'x')")
	mustExec(t, conn, "INSERT INTO py_b VALUES (10, 'b', 99.99)")
	mustExec(t, conn, "ALTER TABLE py_b ADD COLUMN later int; INSERT INTO py_b VALUES (11, 'c', 0.01, 5)")

	colB := newAvroCollector(t, brokers, url, cfgB.topics()...)
	colB.waitFor(2*time.Minute, "py_b's two inserts", func() bool { return len(colB.avro) >= 2 })
	colB.readToEnd(time.Minute)
	colA := newAvroCollector(t, brokers, url, cfgA.topics()...)
	catchUp(t, cfgA, conn, colA.collector, colA.collector, 2*time.Minute)
	if subjects := listSubjects(t, url); !slices.Contains(subjects, cfgB.topic("public.py_b")+"-value") {
		t.Fatalf("the external-registry relay's subjects are not in the registry: %v", subjects)
	}

	for _, latest := range []bool{false, true} {
		for _, c := range []struct {
			cfg *relayConfig
			col *avroCollector
		}{{cfgA, colA}, {cfgB, colB}} {
			got := runPyConsumer(t, py, brokers, url, latest, c.cfg.topics()...)
			comparePy(t, c.col, got, latest)
		}
	}
	checkPyValues(t, runPyConsumer(t, py, brokers, url, false, cfgA.topic("public.py_a")), cfgA.topic("public.py_a"))
}

// comparePy checks that Python read every record Go read, with the same
// schema IDs, event ID, op and key, and (with the latest schema as reader)
// that records written before ADD COLUMN read the new column as null.
func comparePy(t *testing.T, col *avroCollector, got map[string]*pyRecord, latest bool) {
	t.Helper()
	if len(got) != len(col.avro) {
		t.Errorf("Python read %d records, Go %d", len(got), len(col.avro))
	}
	for _, r := range col.avro {
		k := fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset)
		p := got[k]
		if p == nil {
			t.Errorf("Python did not read %s (%s)", k, r.ID)
			continue
		}
		if p.CeID != r.ID || p.ValueSchemaID == nil != r.Tombstone || p.ValueSchemaID != nil && *p.ValueSchemaID != r.ValueID {
			t.Errorf("%s: Python ce_id %s value schema %v; Go %s %d", k, p.CeID, p.ValueSchemaID, r.ID, r.ValueID)
		}
		if r.KeyMap != nil && fmt.Sprint(p.Key["id"]) != fmt.Sprint(r.KeyMap["id"]) {
			t.Errorf("%s: Python key %v, Go %v", k, p.Key, r.KeyMap)
		}
		if r.Tombstone {
			if p.Value != nil {
				t.Errorf("%s: Python value %v for a tombstone", k, p.Value)
			}
			continue
		}
		if p.Value["op"] != r.Env.Op {
			t.Errorf("%s: Python op %v, Go %s", k, p.Value["op"], r.Env.Op)
		}
		after, _ := p.Value["after"].(map[string]any)
		if latest && after != nil && strings.HasSuffix(r.Topic, ".py_a") {
			if _, ok := after["extra"]; !ok {
				t.Errorf("%s: reading with the latest schema, after has no column extra: %v", k, after)
			}
		}
	}
}

// checkPyValues compares the values Python decoded for py_a id=1 with
// what the database holds.
func checkPyValues(t *testing.T, got map[string]*pyRecord, topic string) {
	t.Helper()
	var first map[string]any
	for _, r := range got {
		if r.Topic == topic && r.Value != nil && r.Value["op"] == "c" && fmt.Sprint(r.Key["id"]) == "1" {
			first = r.Value["after"].(map[string]any)
		}
	}
	if first == nil {
		t.Fatalf("Python saw no insert of py_a id=1")
	}
	want := map[string]any{
		"n": "12345.678", "v": map[string]any{"scale": 1.0, "value": "8Q=="}, "m": "1234.56",
		"ts": 1704164645123456.0, "tz": "2024-01-02T01:04:05.500000Z", "d": 19782.0, "t": 11045250000.0,
		"iv": 93600000000.0, "j": `{"k": [1, 2]}`, "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"arr": []any{1.0, nil, 3.0}, "e": "happy", "b": "3q0=", "bits": "Fg==", "f": "nan", "note": "first",
	}
	for k, w := range want {
		if fmt.Sprint(first[k]) != fmt.Sprint(w) {
			t.Errorf("Python decoded py_a id=1 %s = %#v, want %#v", k, first[k], w)
		}
	}
}
