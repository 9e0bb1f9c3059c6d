package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/walrelay/walrelay/internal/avrogeneric"
	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/schema"
	"github.com/walrelay/walrelay/schema/registry"
)

// avroConfig turns cfg into an Avro relay with its embedded registry on a
// free port, and returns the registry's URL.
func avroConfig(t *testing.T, cfg *relayConfig) string {
	t.Helper()
	addr := testenv.FreeAddr(t)
	cfg.set("format", "avro")
	cfg.set("schema_registry.listen", addr)
	return "http://" + addr
}

// avroRec is one Avro record of the relay: the schema IDs of its key and
// value and their decoded contents (unions unwrapped).
type avroRec struct {
	*rec
	KeyID, ValueID uint32
	KeyMap         map[string]any // nil for a null key
	ValueMap       map[string]any // nil for a tombstone
	ValueSchema    avro.Schema
}

// avroDecoder decodes Confluent wire-format records with schemas fetched by
// ID from a registry's REST API (GET /schemas/ids/{id}), as a consumer does.
type avroDecoder struct {
	url     string
	mu      sync.Mutex
	schemas map[uint32]avro.Schema
}

func newAvroDecoder(url string) *avroDecoder {
	return &avroDecoder{url: url, schemas: map[uint32]avro.Schema{}}
}

// schema fetches (once) and parses schema id.
func (d *avroDecoder) schema(id uint32) (avro.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[id]; ok {
		return s, nil
	}
	var body struct {
		Schema string `json:"schema"`
	}
	status, err := httpJSON("GET", fmt.Sprintf("%s/schemas/ids/%d", d.url, id), nil, &body)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("GET schema %d: HTTP %d: %v", id, status, err)
	}
	s, err := registry.Parse(body.Schema)
	if err != nil {
		return nil, fmt.Errorf("schema %d: %w", id, err)
	}
	d.schemas[id] = s
	return s, nil
}

// decode decodes one wire-format message.
func (d *avroDecoder) decode(b []byte) (uint32, avro.Schema, map[string]any, error) {
	id, payload, err := schema.ParseWire(b)
	if err != nil {
		return 0, nil, nil, err
	}
	s, err := d.schema(id)
	if err != nil {
		return id, nil, nil, err
	}
	var v map[string]any
	if err := avro.Unmarshal(s, payload, &v); err != nil {
		return id, s, nil, fmt.Errorf("decode with schema %d: %w", id, err)
	}
	m, _ := avrogeneric.Unwrap(v).(map[string]any)
	return id, s, m, nil
}

// parse turns a Kafka record into a rec (for catchUp and the shared
// helpers: ce_id, commit, ordinal, canonical key, op) and an avroRec.
func (d *avroDecoder) parse(kr *kgo.Record) (*avroRec, error) {
	r := &rec{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, KeyRaw: kr.Key, Value: kr.Value,
		Headers: map[string]string{}, Key: "null"}
	for _, h := range kr.Headers {
		r.Headers[h.Key] = string(h.Value)
	}
	r.ID = r.Headers["ce_id"]
	id, tomb := strings.CutSuffix(r.ID, "-T")
	id, r.KeyChangeCreate = strings.CutSuffix(id, "-C")
	var err error
	if r.Commit, r.Ordinal, err = parseEventID(id); err != nil {
		return nil, err
	}
	ar := &avroRec{rec: r}
	if kr.Key != nil {
		if ar.KeyID, _, ar.KeyMap, err = d.decode(kr.Key); err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		r.Key = keyString(ar.KeyMap)
	}
	r.Tombstone = kr.Value == nil
	if r.Tombstone != tomb {
		return nil, fmt.Errorf("ce_id %q on a record with value %x", r.ID, kr.Value)
	}
	if r.Tombstone {
		return ar, nil
	}
	if ar.ValueID, ar.ValueSchema, ar.ValueMap, err = d.decode(kr.Value); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	r.Env = &envelope{Op: fmt.Sprint(ar.ValueMap["op"])}
	r.Env.Before, _ = ar.ValueMap["before"].(map[string]any)
	r.Env.After, _ = ar.ValueMap["after"].(map[string]any)
	return ar, nil
}

// avroCollector is a collector whose records are Avro: it fills col.recs
// (so catchUp works) and avro with the decoded records.
type avroCollector struct {
	*collector
	dec  *avroDecoder
	avro []*avroRec
}

func newAvroCollector(t *testing.T, brokers []string, registryURL string, topics ...string) *avroCollector {
	t.Helper()
	ac := &avroCollector{collector: newCollector(t, brokers, topics...), dec: newAvroDecoder(registryURL)}
	ac.handle = func(kr *kgo.Record) {
		ar, err := ac.dec.parse(kr)
		if err != nil {
			ac.bad++
			if ac.bad <= 10 {
				t.Errorf("undecodable record %s[%d]@%d: %v", kr.Topic, kr.Partition, kr.Offset, err)
			}
			return
		}
		ac.recs = append(ac.recs, ar.rec)
		ac.avro = append(ac.avro, ar)
	}
	return ac
}

// asJSON makes col read an Avro relay's records: each key and value is
// decoded with its schema from the registry at registryURL and handed to
// the JSON parser as walrelay's JSON format writes it (asDebeziumJSON), so
// the JSON verifiers check Avro output unchanged.
func asJSON(t *testing.T, col *collector, registryURL string) {
	dec := newAvroDecoder(registryURL)
	col.handle = func(kr *kgo.Record) {
		j := *kr
		for _, part := range []*[]byte{&j.Key, &j.Value} {
			if *part == nil {
				continue
			}
			_, s, m, err := dec.decode(*part)
			if err == nil {
				*part, err = json.Marshal(asDebeziumJSON(s, m))
			}
			if err != nil {
				col.bad++
				if col.bad <= 10 {
					t.Errorf("undecodable record %s[%d]@%d: %v", kr.Topic, kr.Partition, kr.Offset, err)
				}
				return
			}
		}
		n := len(col.recs)
		col.keep(&j)
		if len(col.recs) > n {
			col.recs[n].WireKey = kr.Key
		}
	}
}

// byTopic returns the decoded records of topic, in commit order.
func (ac *avroCollector) byTopic(topic string) []*avroRec {
	var out []*avroRec
	for _, r := range ac.avro {
		if r.Topic == topic {
			out = append(out, r)
		}
	}
	idx := map[*rec]*avroRec{}
	rs := make([]*rec, len(out))
	for i, r := range out {
		idx[r.rec], rs[i] = r, r.rec
	}
	sortByID(rs)
	for i, r := range rs {
		out[i] = idx[r]
	}
	return out
}

// asDebeziumJSON converts a decoded Avro value of schema s into the value
// Debezium's JSON converter prints for it (the form the type tests' wants
// use): bytes and decimals as base64 (decimals of their unscaled value),
// VariableScaleDecimal as {"scale","value"}, NaN and infinities as strings,
// numbers as json.Number.
func asDebeziumJSON(s avro.Schema, v any) any {
	if v == nil {
		return nil
	}
	if u, ok := s.(*avro.UnionSchema); ok {
		for _, t := range u.Types() {
			if t.Type() != avro.Null {
				s = t
			}
		}
	}
	if ref, ok := s.(*avro.RefSchema); ok {
		s = ref.Schema()
	}
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case *big.Rat:
		d := s.(*avro.PrimitiveSchema).Logical().(*avro.DecimalLogicalSchema)
		u := new(big.Rat).Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale())), nil)))
		return decimalB64(u.Num())
	case float32:
		return floatJSON(float64(x), 32)
	case float64:
		return floatJSON(x, 64)
	case int:
		return json.Number(strconv.Itoa(x))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case []any:
		items := s.(*avro.ArraySchema).Items()
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = asDebeziumJSON(items, e)
		}
		return out
	case map[string]any:
		r := s.(*avro.RecordSchema)
		out := map[string]any{}
		for _, f := range r.Fields() {
			out[f.Name()] = asDebeziumJSON(f.Type(), x[f.Name()])
		}
		return out
	}
	return v
}

func floatJSON(f float64, bits int) any {
	if name, ok := avrogeneric.FloatName(f); ok {
		return name
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
}

// rawImage converts the before/after image of an Avro record into the
// column -> JSON form checkTypeRow compares.
func rawImage(t *testing.T, r *avroRec, image string) map[string]json.RawMessage {
	t.Helper()
	env := r.ValueSchema.(*avro.RecordSchema)
	var imgSchema avro.Schema
	for _, f := range env.Fields() {
		if f.Name() == image {
			imgSchema = f.Type()
		}
	}
	conv, ok := asDebeziumJSON(imgSchema, r.ValueMap[image]).(map[string]any)
	if !ok {
		t.Fatalf("%s: %s is %v", r.ID, image, r.ValueMap[image])
	}
	out := map[string]json.RawMessage{}
	for k, v := range conv {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %s.%s: %v", r.ID, image, k, err)
		}
		out[k] = b
	}
	return out
}

// httpJSON makes a registry call with a JSON body (nil for none) and
// decodes a JSON answer into out (when not nil); it returns the status.
func httpJSON(method, url string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", registry.ContentType)
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %s: %w", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, nil
}

// subjectVersionIDs returns the schema ID of each version of subject.
func subjectVersionIDs(t *testing.T, url, subject string) []uint32 {
	t.Helper()
	var versions []int
	if status, err := httpJSON("GET", url+"/subjects/"+subject+"/versions", nil, &versions); err != nil || status != 200 {
		t.Fatalf("versions of %s: %d %v", subject, status, err)
	}
	ids := make([]uint32, len(versions))
	for i, v := range versions {
		var body struct {
			ID int `json:"id"`
		}
		if status, err := httpJSON("GET", fmt.Sprintf("%s/subjects/%s/versions/%d", url, subject, v), nil, &body); err != nil || status != 200 {
			t.Fatalf("version %d of %s: %d %v", v, subject, status, err)
		}
		ids[i] = uint32(body.ID)
	}
	return ids
}
