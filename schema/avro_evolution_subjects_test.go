package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/schema/registry"
)

// TestAvroKeyChangeNamesBothSubjects: a column joining the primary key
// breaks the key subject and the value subject (the column becomes
// required); one error names both, with a fix for each, so one operator
// fix lets the change through.
func TestAvroKeyChangeNamesBothSubjects(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	if _, _, err := encodeIDs(t, ta.enc, evoRel(210, 1, evoID, evoA)); err != nil {
		t.Fatal(err)
	}
	keyA := evoA
	keyA.Key = true
	_, _, err := encodeIDs(t, ta.enc, evoRel(210, 2, evoID, keyA))
	var ice *IncompatibleChangeError
	if !errors.As(err, &ice) || !ice.Key || len(ice.Also) != 1 || ice.Also[0].Subject != "app.public.evo-value" {
		t.Fatalf("error %v, want the key subject's with the value subject's in Also", err)
	}
	msg := err.Error()
	for _, want := range []string{`"app.public.evo-key"`, `"app.public.evo-value"`, "it became a key column",
		"http://registry.test:8081/config/app.public.evo-key", "http://registry.test:8081/config/app.public.evo-value",
		"each of these subjects (app.public.evo-key, app.public.evo-value)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, s := range []string{"app.public.evo-key", "app.public.evo-value"} {
		if err := ta.store.SetSubjectLevel(s, registry.None); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := encodeIDs(t, ta.enc, evoRel(210, 2, evoID, keyA)); err != nil {
		t.Fatalf("after relaxing both subjects named: %v", err)
	}

}
