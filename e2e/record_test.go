package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"
	"github.com/twmb/franz-go/pkg/kgo"
)

// rec is one Kafka record of the relay, parsed.
type rec struct {
	Topic     string
	Partition int32
	Offset    int64
	ID        string        // ce_id header
	Commit    pglogrepl.LSN // commit LSN, from ce_id
	Ordinal   uint32        // ordinal in the transaction, from ce_id
	Tombstone bool          // nil value (ce_id ends in "-T")
	// KeyChangeCreate marks the create half of a key-changing update (ce_id
	// ends in "-C"; the delete half has the plain ID).
	KeyChangeCreate bool
	Key             string // canonical key, e.g. "id=5,tenant=3"
	KeyRaw          []byte
	// WireKey is the key's bytes as Kafka holds them, which the partition
	// follows: KeyRaw itself, or the Avro bytes KeyRaw was decoded from.
	WireKey []byte
	Value   []byte // the raw value, nil for tombstones
	Headers map[string]string
	Env     *envelope // nil for tombstones
}

// envelope is the Debezium JSON envelope of a change.
type envelope struct {
	Before      map[string]any `json:"before"`
	After       map[string]any `json:"after"`
	Source      source         `json:"source"`
	Op          string         `json:"op"`
	TsMs        int64          `json:"ts_ms"`
	Transaction *struct {
		ID                  string `json:"id"`
		TotalOrder          int64  `json:"total_order"`
		DataCollectionOrder int64  `json:"data_collection_order"`
	} `json:"transaction"`
}

type source struct {
	Version   string `json:"version"`
	Connector string `json:"connector"`
	Name      string `json:"name"`
	TsMs      int64  `json:"ts_ms"`
	Snapshot  string `json:"snapshot"`
	DB        string `json:"db"`
	Schema    string `json:"schema"`
	Table     string `json:"table"`
	TxID      int64  `json:"txId"`
	LSN       int64  `json:"lsn"`
}

// parseRecord parses a record's headers, key and value (numbers in before
// and after stay json.Number, so large integers keep every digit).
func parseRecord(kr *kgo.Record) (*rec, error) {
	r := &rec{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, KeyRaw: kr.Key, WireKey: kr.Key, Value: kr.Value, Headers: map[string]string{}}
	for _, h := range kr.Headers {
		r.Headers[h.Key] = string(h.Value)
	}
	r.ID = r.Headers["ce_id"]
	id, tomb := strings.CutSuffix(r.ID, "-T")
	id, r.KeyChangeCreate = strings.CutSuffix(id, "-C")
	commit, ord, err := parseEventID(id)
	if err != nil {
		return nil, err
	}
	r.Commit, r.Ordinal = commit, ord
	r.Key, err = canonicalKey(kr.Key)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", kr.Key, err)
	}
	r.Tombstone = kr.Value == nil
	if r.Tombstone != tomb {
		return nil, fmt.Errorf("ce_id %q on a record with value %q: tombstones and only they end in -T", r.ID, kr.Value)
	}
	if r.Tombstone {
		return r, nil
	}
	r.Env = new(envelope)
	if err := decodeJSON(kr.Value, r.Env); err != nil {
		return nil, fmt.Errorf("value %q: %w", kr.Value, err)
	}
	return r, nil
}

// parseEventID parses "00000000016B3748-00000005".
func parseEventID(id string) (pglogrepl.LSN, uint32, error) {
	c, o, ok := strings.Cut(id, "-")
	if !ok || len(c) != 16 || len(o) != 8 {
		return 0, 0, fmt.Errorf("ce_id %q is not <16 hex>-<8 hex>", id)
	}
	commit, err := strconv.ParseUint(c, 16, 64)
	if err != nil || strings.ToUpper(c) != c {
		return 0, 0, fmt.Errorf("ce_id %q: commit LSN part is not upper-case hex", id)
	}
	ord, err := strconv.ParseUint(o, 16, 32)
	if err != nil || strings.ToUpper(o) != o || ord == 0 {
		return 0, 0, fmt.Errorf("ce_id %q: ordinal part is not upper-case hex > 0", id)
	}
	return pglogrepl.LSN(commit), uint32(ord), nil
}

// decodeJSON unmarshals with json.Number for numbers, rejecting trailing data.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// canonicalKey turns a JSON key object into "col=value,..." sorted by column,
// or "null" for a null key.
func canonicalKey(b []byte) (string, error) {
	if b == nil || string(b) == "null" {
		return "null", nil
	}
	var m map[string]any
	if err := decodeJSON(b, &m); err != nil {
		return "", err
	}
	return keyString(m), nil
}

// keyString renders key columns as "col=value,..." sorted by column.
func keyString(m map[string]any) string {
	cols := make([]string, 0, len(m))
	for k := range m {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	parts := make([]string, len(cols))
	for i, k := range cols {
		parts[i] = fmt.Sprintf("%s=%v", k, m[k])
	}
	return strings.Join(parts, ",")
}

// dedupe keeps the first record of every ce_id, in the order given, and
// reports duplicates whose content differs from the first (the same event ID
// must always carry the same change).
func dedupe(recs []*rec) (uniq []*rec, dups int, conflicts []string) {
	first := make(map[string]*rec, len(recs))
	for _, r := range recs {
		f, seen := first[r.ID]
		if !seen {
			first[r.ID] = r
			uniq = append(uniq, r)
			continue
		}
		dups++
		if d := sameChange(f, r); d != "" && len(conflicts) < 20 {
			conflicts = append(conflicts, fmt.Sprintf("ce_id %s at %s[%d]@%d and %s[%d]@%d: %s",
				r.ID, f.Topic, f.Partition, f.Offset, r.Topic, r.Partition, r.Offset, d))
		}
	}
	return uniq, dups, conflicts
}

// sameChange says how two records with one ce_id differ ("" if they don't),
// ignoring the envelope's processing time ts_ms.
func sameChange(a, b *rec) string {
	switch {
	case a.Topic != b.Topic:
		return "topic " + a.Topic + " vs " + b.Topic
	case a.Key != b.Key:
		return "key " + a.Key + " vs " + b.Key
	case a.Tombstone != b.Tombstone:
		return "tombstone vs value"
	case a.Tombstone:
		return ""
	case a.Env.Op != b.Env.Op:
		return "op " + a.Env.Op + " vs " + b.Env.Op
	case !reflect.DeepEqual(a.Env.Before, b.Env.Before):
		return fmt.Sprintf("before %v vs %v", a.Env.Before, b.Env.Before)
	case !reflect.DeepEqual(a.Env.After, b.Env.After):
		return fmt.Sprintf("after %v vs %v", a.Env.After, b.Env.After)
	case a.Env.Source != b.Env.Source:
		return fmt.Sprintf("source %+v vs %+v", a.Env.Source, b.Env.Source)
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func fmtAny(v any) string { return fmt.Sprint(v) }

// sortByID sorts records by ce_id: commit order, a tombstone after its change.
func sortByID(rs []*rec) {
	sort.SliceStable(rs, func(i, j int) bool { return idAfter(rs[j], rs[i]) })
}

// lastV returns, per key, column v of the newest event of topic that has an
// after image.
func lastV(recs []*rec, topic string) map[string]string {
	last := map[string]string{}
	for _, r := range recs {
		if r.Topic == topic && r.Env != nil && r.Env.After != nil {
			last[r.Key] = fmtAny(r.Env.After["v"])
		}
	}
	return last
}

// checkLastV checks that keys id=1..n end at want(id) and that last has no
// other key.
func checkLastV(t *testing.T, last map[string]string, n int, want func(id int) string) {
	t.Helper()
	for id := 1; id <= n; id++ {
		if k, w := fmt.Sprintf("id=%d", id), want(id); last[k] != w {
			t.Errorf("%s: last event has v %q, the row has %s", k, last[k], w)
		}
	}
	if len(last) != n {
		t.Errorf("%d keys in Kafka, the table has %d rows", len(last), n)
	}
}
