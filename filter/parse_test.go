package filter

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrokenRulesFiles loads every file in testdata/broken. Each starts with
// "# want <line>[:<column>]: <text>": the first error must be at that
// position and its message must start with text.
func TestBrokenRulesFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/broken/*.yaml")
	if err != nil || len(files) < 25 {
		t.Fatalf("testdata/broken: %d files, %v", len(files), err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
		want, ok := strings.CutPrefix(string(first), "# want ")
		if !ok {
			t.Errorf("%s: no '# want' line", f)
			continue
		}
		_, err = Load(f, "")
		if err == nil {
			t.Errorf("%s: loaded without error", f)
			continue
		}
		e := FirstError(err)
		if e == nil {
			t.Errorf("%s: error %T %v is not an *Error", f, err, err)
			continue
		}
		if got := e.Error(); !strings.HasPrefix(got, f+":"+want) {
			t.Errorf("%s:\n got  %s\n want %s:%s...", f, got, f, want)
		}
		if e.Fix == "" {
			t.Errorf("%s: error without a fix: %v", f, e)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/does-not-exist.yaml", "")
	if e := FirstError(err); e == nil || !strings.Contains(e.Error(), "cannot read rules file") {
		t.Errorf("error %v", err)
	}
}

// TestSeveralErrors: every mistake is reported, in file order.
func TestSeveralErrors(t *testing.T) {
	t.Parallel()
	_, err := Parse("r.yaml", []byte("rules:\n  - tables: [a]\n    operations: [x]\n  - tables: [b.c]\n    frob: 1\n"), "")
	es, ok := err.(Errors)
	if !ok || len(es) != 3 {
		t.Fatalf("errors %v, want 3", err)
	}
	for i, want := range []string{"r.yaml:2:14:", "r.yaml:3:18:", "r.yaml:5:5:"} {
		if !strings.HasPrefix(es[i].Error(), want) {
			t.Errorf("error %d: %v, want %s...", i, es[i], want)
		}
	}
}

// TestValidRulesFile loads the design's example.
func TestValidRulesFile(t *testing.T) {
	t.Parallel()
	rs, err := Load("testdata/example.yaml", "salt")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) != 3 || len(rs.Messages) != 1 || rs.Default != DefaultDrop {
		t.Fatalf("loaded %d rules, %d message routes, default %s", len(rs.Rules), len(rs.Messages), rs.Default)
	}
	r := rs.Rules[0]
	if r.Pos != (Pos{Line: 3, Column: 5}) || r.Topic != "shop.orders" || r.Where == "" || len(r.Exclude) != 1 || len(r.Mask) != 1 ||
		strings.Join(r.Operations, ",") != "insert,update,delete" {
		t.Errorf("rule 0: %+v", r)
	}
	if o := rs.Rules[2].Outbox; o == nil || o.ID != "id" || o.Key != "aggregate_id" || o.Payload != "payload" || o.Type != "event_type" {
		t.Errorf("outbox rule: %+v", o)
	}
}
