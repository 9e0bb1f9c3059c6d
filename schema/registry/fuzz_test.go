package registry

import "testing"

// FuzzRegister: whatever a client POSTs as a schema, the store neither
// panics nor accepts what does not parse, and what it accepts it finds
// again by lookup under the same ID.
func FuzzRegister(f *testing.F) {
	f.Add(rec(`id:"int"`, `a?:"string"`))
	f.Add(`{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`)
	f.Add(`["null",{"type":"array","items":"long"}]`)
	f.Add(`{"type":"record","name":"x","fields":[{"name":"y","type":"x"}]}`)
	f.Add(`{"type":"enum","name":"E","symbols":["A","B"]}`)
	s, err := OpenStore(f.TempDir(), None)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		id, err := s.Register(ctx, "fuzz-value", text)
		if err != nil {
			return
		}
		if _, perr := Parse(text); perr != nil {
			t.Fatalf("registered a schema that does not parse: %q: %v", text, perr)
		}
		if v2, err := s.LookupVersion("fuzz-value", text); err != nil || v2.ID != id {
			t.Fatalf("lookup of a registered schema: %+v %v", v2, err)
		}
	})
}
