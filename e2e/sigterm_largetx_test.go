package e2e

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestSigtermInLargeTransaction: SIGTERM arrives while walrelay receives a
// 100,000-row transaction (after its first events were sent). What a user
// relies on, on every attempt:
//
//	(a) exit code 0, and a "stopped" line naming the stored checkpoint and
//	    saying whether the stop drained;
//	(b) drained: the whole transaction is in Kafka and the checkpoint is
//	    past its commit;
//	(c) not drained (the 2 s drain deadline passed): the checkpoint is
//	    before the commit, and a "stopped inside a transaction" warning
//	    names the commit and how many of its events were sent (they are
//	    sent again after a restart);
//	(d) after each attempt the next start publishes whatever was left, so
//	    every update of every attempt is in Kafka at the end.
//
// It stops six times, so that it does not pass by luck: the stop lands at
// a different point of the transaction each time. (Before the fix, about
// one stop in four exited 0 at once with no "stopped" line: a read cut by
// the signal failed the drain, and the error was not logged.)
func TestSigtermInLargeTransaction(t *testing.T) {
	t.Parallel()
	const rows, attempts = 60_000, 6
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE bigterm (id bigint PRIMARY KEY, v text NOT NULL);
		INSERT INTO bigterm SELECT g, 'init' FROM generate_series(1, 60000) g;`)
	cfg := newRelayConfig(t, dsn, brokers, "public.bigterm")
	cfg.set("snapshot.mode", "never")
	addr := testenv.FreeAddr(t)
	cfg.set("metrics.listen", addr)
	tally := newTagTally(t, brokers, cfg.topic("public.bigterm"))

	var drained, cut int
	var written pglogrepl.LSN // the WAL end after the last update
	for i := 1; i <= attempts; i++ {
		r := startRelay(t, cfg)
		cfg.waitCheckpointBeyond(written, 2*time.Minute) // what a stop left behind is sent again first
		base := eventsSent(t, addr)
		tag := fmt.Sprintf("sigterm-%d", i)
		mustExec(t, conn, `UPDATE bigterm SET v = $1`, tag) // one transaction
		written = walEnd(t, conn)
		waitEventsSent(t, r, addr, base, 30*time.Second)
		code, took := r.term()
		stopped := r.findLog("stopped")
		cp := cfg.mustCheckpoint()
		commit, got := tally.read(tag)
		t.Logf("attempt %d: exit %d after %s; %d of %d rows in Kafka (commit %s); checkpoint %s; stopped %v",
			i, code, took.Round(time.Millisecond), got, rows, commit, cp, stopped)
		if code != 0 || took > 10*time.Second {
			t.Errorf("attempt %d: (a) exit code %d after %s, want 0 within 10s", i, code, took)
		}
		if stopped == nil || stopped["lsn"] != cp.String() {
			t.Errorf("attempt %d: (a) \"stopped\" line %v, want one with lsn %s (the stored checkpoint); log tail:\n%s",
				i, stopped, cp, cfg.logTail(15))
			continue
		}
		switch stopped["drained"] {
		case true:
			drained++
			if got != rows || cp <= commit {
				t.Errorf("attempt %d: (b) drained stop: %d of %d rows in Kafka, checkpoint %s, want all and past the commit %s",
					i, got, rows, cp, commit)
			}
		case false:
			cut++
			checkCutStop(t, r, i, cp, commit)
		default:
			t.Errorf("attempt %d: (a) \"stopped\" line %v has no boolean \"drained\"", i, stopped)
		}
	}
	t.Logf("%d drained stops, %d stops inside the transaction", drained, cut)

	// (d) Everything arrives in the end.
	r := startRelay(t, cfg)
	cfg.waitCheckpointBeyond(written, 2*time.Minute)
	for i := 1; i <= attempts; i++ {
		if _, got := tally.read(fmt.Sprintf("sigterm-%d", i)); got != rows {
			t.Errorf("(d) attempt %d's update: %d of %d rows in Kafka after the last restart", i, got, rows)
		}
	}
	if code, took := r.term(); code != 0 || r.findLog("stopped") == nil {
		t.Errorf("last walrelay: exit code %d after %s, stopped line %v", code, took, r.findLog("stopped"))
	}
}

// msgStoppedInTxn is walrelay's warning for a stop inside a transaction.
const msgStoppedInTxn = "stopped inside a transaction: its commit was not read within the drain time; " +
	"the checkpoint stays before it and its events already sent are sent again after restart"

// checkCutStop checks (c) for a stop that did not drain the transaction
// that commits at commit.
func checkCutStop(t *testing.T, r *relay, attempt int, cp, commit pglogrepl.LSN) {
	t.Helper()
	if cp > commit {
		t.Errorf("attempt %d: (c) not drained, but the checkpoint %s is past the commit %s", attempt, cp, commit)
	}
	line := r.findLog(msgStoppedInTxn)
	if _, ok := line["events_sent"].(float64); !ok || line["commit_lsn"] != commit.String() {
		t.Errorf("attempt %d: (c) not drained; line %v, want %q with commit_lsn %s and events_sent",
			attempt, line, msgStoppedInTxn, commit)
	}
}

// eventsSent returns walrelay_events_total.
func eventsSent(t *testing.T, addr string) float64 {
	t.Helper()
	return scrape(t, "http://"+addr+"/metrics")["walrelay_events_total"]
}

// waitEventsSent waits until walrelay_events_total > base: walrelay has
// begun sending the transaction.
func waitEventsSent(t *testing.T, r *relay, addr string, base float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for eventsSent(t, addr) <= base {
		if r.exited() || time.Now().After(deadline) {
			t.Fatalf("walrelay sent no event within %s (exited %v)", timeout, r.exited())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// walEnd returns the server's current WAL write position.
func walEnd(t *testing.T, conn *pgx.Conn) pglogrepl.LSN {
	t.Helper()
	var text string
	if err := conn.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&text); err != nil {
		t.Fatalf("pg_current_wal_lsn: %v", err)
	}
	lsn, err := pglogrepl.ParseLSN(text)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

// tagTally counts, per value of v, the distinct rows of bigterm in Kafka,
// without keeping the records.
type tagTally struct {
	col    *collector
	rows   map[string]map[string]bool // v -> set of keys
	commit map[string]pglogrepl.LSN   // v -> commit LSN of its records
}

func newTagTally(t *testing.T, brokers []string, topic string) *tagTally {
	c := &tagTally{col: newCollector(t, brokers, topic), rows: map[string]map[string]bool{},
		commit: map[string]pglogrepl.LSN{}}
	c.col.handle = c.add
	return c
}

func (c *tagTally) add(kr *kgo.Record) {
	i := bytes.Index(kr.Value, []byte(`"v":"`))
	if i < 0 {
		return
	}
	v := kr.Value[i+5:]
	tag := string(v[:bytes.IndexByte(v, '"')])
	if c.rows[tag] == nil {
		c.rows[tag] = map[string]bool{}
	}
	c.rows[tag][string(kr.Key)] = true
	for _, h := range kr.Headers {
		if h.Key == "ce_id" {
			if commit, _, err := parseEventID(string(h.Value)); err == nil {
				c.commit[tag] = commit
			}
		}
	}
}

// read reads the topic to its end and returns the commit LSN of tag's
// records and how many distinct rows carry it.
func (c *tagTally) read(tag string) (pglogrepl.LSN, int) {
	c.col.readToEnd(time.Minute)
	return c.commit[tag], len(c.rows[tag])
}
