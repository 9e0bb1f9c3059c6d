package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// useRules writes a rules file for cfg (PREFIX in body becomes cfg's topic
// prefix) and points the config at it; call it again to change the file,
// then sighup a running relay.
func useRules(t *testing.T, cfg *relayConfig, body string) string {
	t.Helper()
	path := filepath.Join(filepath.Dir(cfg.path), "rules.yaml")
	body = strings.ReplaceAll(body, "PREFIX", cfg.TopicPrefix)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatalf("write rules: %v", err)
	}
	cfg.set("rules", path)
	return path
}

// sighup asks the relay to reload its rules file.
func (r *relay) sighup() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		r.t.Fatalf("SIGHUP to walrelay: %v", err)
	}
}

// logLines returns the fields of every JSON log line of this process whose
// "message" is msg, in order.
func (r *relay) logLines(msg string) []map[string]any {
	f, err := os.Open(r.cfg.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(r.logStart, 0); err != nil {
		return nil
	}
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(msg)) {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(sc.Bytes(), &fields) == nil && fields["message"] == msg {
			out = append(out, fields)
		}
	}
	return out
}

// waitLogCount waits until the process logged msg n times and returns the
// n-th line's fields.
func (r *relay) waitLogCount(msg string, n int, timeout time.Duration) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		exited := r.exited()
		if lines := r.logLines(msg); len(lines) >= n {
			return lines[n-1]
		}
		if exited || time.Now().After(deadline) {
			r.t.Fatalf("walrelay logged %q fewer than %d times (exited %v); log tail:\n%s", msg, n, exited, r.cfg.logTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// publicationTables lists the tables of a publication, sorted.
func publicationTables(t *testing.T, conn *pgx.Conn, pub string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1", pub)
	if err != nil {
		t.Fatalf("list publication %s: %v", pub, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list publication %s: %v", pub, err)
	}
	sort.Strings(names)
	return names
}

// waitPublication waits until the publication holds exactly want (sorted).
func waitPublication(t *testing.T, conn *pgx.Conn, pub string, want []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := publicationTables(t, conn, pub)
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("publication %s holds %v after %s, want %v", pub, got, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rawRecords makes col keep raw records instead of parsing them as change
// events (outbox rows and routed messages are not envelopes).
func rawRecords(col *collector) *[]*kgo.Record {
	var out []*kgo.Record
	col.handle = func(kr *kgo.Record) { out = append(out, kr) }
	return &out
}

// headers returns a record's headers as a map.
func headers(kr *kgo.Record) map[string]string {
	m := map[string]string{}
	for _, h := range kr.Headers {
		m[h.Key] = string(h.Value)
	}
	return m
}

// byTopic groups parsed records by topic, each group in ce_id order.
func byTopic(recs []*rec) map[string][]*rec {
	out := map[string][]*rec{}
	for _, r := range recs {
		out[r.Topic] = append(out[r.Topic], r)
	}
	for _, rs := range out {
		sortByID(rs)
	}
	return out
}

// pgxQuerier is what checks need from a connection.
type pgxQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
