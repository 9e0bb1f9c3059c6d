package registry

import (
	"errors"
	"strings"
	"testing"
)

// TestExplainNullability: a field that only loses or gains its null branch
// (in walrelay's value schema, a column entering or leaving the key) is
// reported as becoming required or optional, with a reason that says it
// became (or stopped being) a key column and whether its type changed, not
// as a type change.
func TestExplainNullability(t *testing.T) {
	t.Parallel()
	parse := func(text string) Version { return mustVersion(t, text) }
	value := func(a string) Version {
		return parse(`{"type":"record","name":"Envelope","namespace":"p.public.t","fields":[` +
			`{"name":"after","type":["null",{"type":"record","name":"Value","fields":[` + a +
			`,{"name":"b","type":["null","string"],"default":null}]}],"default":null}]}`)
	}
	optInt := value(`{"name":"a","type":["null","int"],"default":null}`)
	reqInt := value(`{"name":"a","type":"int"}`)
	reqLong := value(`{"name":"a","type":"long"}`)
	reqString := value(`{"name":"a","type":"string"}`)
	cases := []struct {
		level      Level
		old, next  Version
		change     string
		want, lack []string
	}{
		{Backward, optInt, reqInt, ChangeRequired,
			[]string{"became a key column", "optional int is now int", "type did not change", "null"}, nil},
		{Backward, optInt, reqLong, ChangeRequired,
			[]string{"became a key column", "optional int is now long"}, []string{"did not change"}},
		{Forward, reqInt, optInt, ChangeOptional,
			[]string{"no longer a key column", "int is now optional int", "type did not change"}, nil},
		// Not only nullability: a type change stays one.
		{Backward, optInt, reqString, ChangeType, []string{"from optional int to string"}, []string{"key column"}},
	}
	for i, c := range cases {
		err := Check(c.level, c.next.Schema, []Version{c.old})
		var ie *IncompatibleError
		if !errors.As(err, &ie) || len(ie.Problems) != 1 {
			t.Errorf("case %d: %v, want one problem", i, err)
			continue
		}
		p := ie.Problems[0]
		msg := p.String()
		if p.Change != c.change || strings.Join(p.Path, ".") != "after.a" {
			t.Errorf("case %d: %s, want %s of after.a", i, msg, c.change)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("case %d: %q lacks %q", i, msg, w)
			}
		}
		for _, w := range c.lack {
			if strings.Contains(msg, w) {
				t.Errorf("case %d: %q has %q", i, msg, w)
			}
		}
	}
	// Required -> optional under BACKWARD is compatible (the key column left
	// the key); optional -> required under FORWARD too.
	if err := Check(Backward, optInt.Schema, []Version{reqInt}); err != nil {
		t.Errorf("BACKWARD required -> optional: %v", err)
	}
	if err := Check(Forward, reqInt.Schema, []Version{optInt}); err != nil {
		t.Errorf("FORWARD optional -> required: %v", err)
	}
}
