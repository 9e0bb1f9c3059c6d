package schema

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// downBackend is an embedded store that answers nothing while down, as an
// external registry that cannot be reached.
type downBackend struct {
	*registry.Store
	down atomic.Bool
}

var errRegistryDown = errors.New("connection refused")

func (d *downBackend) Lookup(ctx context.Context, subject, text string) (int, bool, error) {
	if d.down.Load() {
		return 0, false, errRegistryDown
	}
	return d.Store.Lookup(ctx, subject, text)
}

func (d *downBackend) History(ctx context.Context, subject string, all bool) ([]registry.Version, error) {
	if d.down.Load() {
		return nil, errRegistryDown
	}
	return d.Store.History(ctx, subject, all)
}

func (d *downBackend) SubjectLevel(ctx context.Context, subject string) (registry.Level, bool, error) {
	if d.down.Load() {
		return "", false, errRegistryDown
	}
	return d.Store.SubjectLevel(ctx, subject)
}

func (d *downBackend) Register(ctx context.Context, subject, text string) (int, error) {
	if d.down.Load() {
		return 0, errRegistryDown
	}
	return d.Store.Register(ctx, subject, text)
}

func (d *downBackend) Latest(ctx context.Context, subject string) (string, bool, error) {
	if d.down.Load() {
		return "", false, errRegistryDown
	}
	return d.Store.Latest(ctx, subject)
}

// TestAvroMemoryRegistryDown is the audit's finding: with the registry down,
// a new encoder of the same process (a pipeline session restarted after a
// halt) publishes the tables whose schemas an earlier encoder derived, the
// old shape of a table that changed since included (a replay from the
// checkpoint), with the same schema IDs and field names, and halts only on
// what needs the registry: a changed table, a table new to the process.
// Without the memory the first row of a known table halts.
func TestAvroMemoryRegistryDown(t *testing.T) {
	t.Parallel()
	store, err := registry.OpenStore(t.TempDir(), registry.Backward)
	if err != nil {
		t.Fatal(err)
	}
	db := &downBackend{Store: store}
	client := registry.NewClient(db, registry.Backward, zerolog.Nop())
	mem := NewAvroMemory()
	session := func(mem *AvroMemory) *testAvro {
		enc, err := NewAvro(testOptions(), AvroOptions{Registry: client, Memory: mem})
		if err != nil {
			t.Fatal(err)
		}
		return &testAvro{enc: enc, store: store, schemas: map[uint32]avro.Schema{}}
	}
	first := session(mem)
	id1, _ := insertAfter(t, first, xyRel(1, colXY), int32(1), int32(11))
	id2, a2 := insertAfter(t, first, xyRel(2, colXY, colX_Y), int32(2), int32(22), int32(222))
	want2 := map[string]any{"id": 2, "x_y": 22, "x_y_2": 222}
	if !reflect.DeepEqual(a2, want2) {
		t.Fatalf("after ADD COLUMN: %v, want %v", a2, want2)
	}

	db.down.Store(true)
	next := session(mem) // relations decoded anew, versions from 1
	if id, a := insertAfter(t, next, xyRel(1, colXY), int32(3), int32(33)); id != id1 ||
		!reflect.DeepEqual(a, map[string]any{"id": 3, "x_y": 33}) {
		t.Errorf("old shape replayed: schema %d (want %d), after %v", id, id1, a)
	}
	if id, a := insertAfter(t, next, xyRel(2, colXY, colX_Y), int32(2), int32(22), int32(222)); id != id2 || !reflect.DeepEqual(a, want2) {
		t.Errorf("current shape: schema %d (want %d), after %v", id, id2, a)
	}
	changed := xyRel(3, colXY, colX_Y, colXdY)
	if _, err := next.enc.Encode(change(event.OpCreate, changed, nil, []any{int32(4), int32(4), int32(4), int32(4)})); !errors.Is(err, errRegistryDown) {
		t.Errorf("changed table with the registry down: %v, want a halt on the registry", err)
	}
	other := &event.Relation{OID: 301, Schema: "public", Table: "u", ReplicaIdentity: event.IdentityDefault,
		Version: 1, Columns: []event.Column{evoID}}
	if _, err := next.enc.Encode(change(event.OpCreate, other, nil, []any{int32(1)})); !errors.Is(err, errRegistryDown) ||
		!strings.Contains(err.Error(), `"app.public.u-value"`) {
		t.Errorf("table new to the process with the registry down: %v, want a halt naming its subject", err)
	}
	_, err = session(nil).enc.Encode(change(event.OpCreate, xyRel(1, colXY), nil, []any{int32(5), int32(5)}))
	if !errors.Is(err, errRegistryDown) {
		t.Errorf("an encoder without the memory: %v, want it to need the registry", err)
	}
}
