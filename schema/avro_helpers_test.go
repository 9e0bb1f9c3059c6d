package schema

import (
	"sync"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/avrogeneric"
	"github.com/walrelay/walrelay/schema/registry"
)

// testAvro is an Avro encoder over a real embedded registry store in a
// temporary directory.
type testAvro struct {
	enc     *AvroEncoder
	store   *registry.Store
	mu      sync.Mutex
	schemas map[uint32]avro.Schema // parsed, by ID
}

func newTestAvro(t testing.TB, level registry.Level) *testAvro {
	t.Helper()
	return newTestAvroWith(t, level, testOptions())
}

// newTestAvroWith is newTestAvro with the encoder options o.
func newTestAvroWith(t testing.TB, level registry.Level, o Options) *testAvro {
	t.Helper()
	store, err := registry.OpenStore(t.TempDir(), level)
	if err != nil {
		t.Fatal(err)
	}
	client := registry.NewClient(store, level, zerolog.Nop())
	enc, err := NewAvro(o, AvroOptions{Registry: client, RegistryURL: "http://registry.test:8081"})
	if err != nil {
		t.Fatal(err)
	}
	return &testAvro{enc: enc, store: store, schemas: map[uint32]avro.Schema{}}
}

// decodeWire splits a wire-format message, fetches its schema by ID from the
// store and decodes the payload with hamba's generic decoder.
func (ta *testAvro) decodeWire(t testing.TB, b []byte) (id uint32, v map[string]any) {
	t.Helper()
	id, payload, err := ParseWire(b)
	if err != nil {
		t.Fatalf("ParseWire(%x): %v", b, err)
	}
	s := ta.schema(t, id)
	if err := avro.Unmarshal(s, payload, &v); err != nil {
		t.Fatalf("decode with schema %d: %v\npayload %x\nschema %s", id, err, payload, s)
	}
	return id, v
}

// schema returns the parsed schema id, fetched from the store once.
func (ta *testAvro) schema(t testing.TB, id uint32) avro.Schema {
	t.Helper()
	ta.mu.Lock()
	defer ta.mu.Unlock()
	if s, ok := ta.schemas[id]; ok {
		return s
	}
	text, err := ta.store.SchemaByID(int(id))
	if err != nil {
		t.Fatalf("schema %d: %v", id, err)
	}
	s, err := registry.Parse(text)
	if err != nil {
		t.Fatalf("parse schema %d: %v\n%s", id, err, text)
	}
	ta.schemas[id] = s
	return s
}

// decodeValue decodes a record value and unwraps its unions.
func (ta *testAvro) decodeValue(t testing.TB, b []byte) map[string]any {
	t.Helper()
	_, v := ta.decodeWire(t, b)
	return avrogeneric.Unwrap(v).(map[string]any)
}
