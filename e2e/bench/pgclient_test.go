package main

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

// beginMsg and commitMsg encode pgoutput (protocol version 1) messages.
func beginMsg(final uint64, micros int64, xid uint32) []byte {
	b := []byte{'B'}
	b = binary.BigEndian.AppendUint64(b, final)
	b = binary.BigEndian.AppendUint64(b, uint64(micros))
	return binary.BigEndian.AppendUint32(b, xid)
}

func commitMsg(flags byte, lsn, end uint64, micros int64) []byte {
	b := []byte{'C', flags}
	b = binary.BigEndian.AppendUint64(b, lsn)
	b = binary.BigEndian.AppendUint64(b, end)
	return binary.BigEndian.AppendUint64(b, uint64(micros))
}

func TestParseCommit(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	micros := at.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds()
	c, err := parseCommit(commitMsg(0, 0x16B3748, 0x16B3778, micros))
	if err != nil {
		t.Fatal(err)
	}
	if c.commitLSN.String() != "0/16B3748" || c.endLSN.String() != "0/16B3778" || !c.time().Equal(at) {
		t.Fatalf("commit %s, end %s, time %s (want %s)", c.commitLSN, c.endLSN, c.time().UTC(), at)
	}
	msg := commitMsg(0, 1, 2, micros)
	for _, bad := range [][]byte{nil, msg[:commitLen-1], append([]byte{'B'}, msg[1:]...)} {
		if _, err := parseCommit(bad); err == nil {
			t.Errorf("%x parsed as a Commit", bad)
		}
	}
	final, us, xid, err := parseBegin(beginMsg(0x16B3778, micros, 771))
	if err != nil || final.String() != "0/16B3778" || us != micros || xid != 771 {
		t.Fatalf("Begin: %s %d %d %v", final, us, xid, err)
	}
	if _, _, _, err := parseBegin(beginMsg(1, 2, 3)[:beginLen-1]); err == nil {
		t.Error("short Begin parsed")
	}
}

func TestTxClockCountsInserts(t *testing.T) {
	t.Parallel()
	var tx txClock
	insert, relation := []byte{'I', 0, 0, 0, 1, 'N'}, []byte{'R', 0, 0, 0, 1}
	for round, rows := range []int{3, 0, 1} {
		msgs := [][]byte{beginMsg(9, 7, 1), relation}
		for range rows {
			msgs = append(msgs, insert)
		}
		msgs = append(msgs, commitMsg(0, 8, 9, 7))
		for i, m := range msgs {
			c, done, err := tx.feed(m)
			if err != nil {
				t.Fatalf("round %d message %d: %v", round, i, err)
			}
			if last := i == len(msgs)-1; done != last || last && (c.rows != rows || c.micros != 7) {
				t.Fatalf("round %d message %d: done %v, %+v (want %d rows)", round, i, done, c, rows)
			}
		}
	}
	for name, seq := range map[string][][]byte{
		"Insert outside":   {insert},
		"Commit outside":   {commitMsg(0, 1, 2, 3)},
		"Begin inside":     {beginMsg(1, 2, 3), beginMsg(1, 2, 3)},
		"short Commit":     {beginMsg(1, 2, 3), commitMsg(0, 1, 2, 3)[:20]},
		"empty message":    {{}},
		"short Begin only": {beginMsg(1, 2, 3)[:5]},
	} {
		var tx txClock
		var err error
		for _, m := range seq {
			if _, _, err = tx.feed(m); err != nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestAddCommitPerRowAfterWarmup(t *testing.T) {
	t.Parallel()
	from := time.UnixMilli(10_000)
	s := &latencySamples{from: from}
	s.addCommit(from.Add(-time.Millisecond), from.Add(5*time.Millisecond), 4) // warm-up: received, not a sample
	s.addCommit(from.Add(2500*time.Microsecond), from.Add(4900*time.Microsecond), 3)
	if s.count() != 7 || len(s.lat) != 3 {
		t.Fatalf("received %d (want 7), samples %d (want 3)", s.count(), len(s.lat))
	}
	if s.lat[0] != (sample{10_002, 2}) { // both truncated to ms, like Kafka's append time
		t.Fatalf("sample %+v, want {10002 2}", s.lat[0])
	}
}

func TestFileSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"walrelay json":                      "walrelay_json",
		"walrelay json (half max)":           "walrelay_json_half_max",
		clientName:                           "pgoutput_client_no_Kafka",
		"debezium-server 3.6.1.Final":        "debezium-server_3.6.1.Final",
		"pgoutput client (no Kafka) (a/b c)": "pgoutput_client_no_Kafka_a_b_c",
	} {
		if got := fileSafe(in); got != want {
			t.Errorf("fileSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzTxClock feeds arbitrary messages: feed never panics, and every Begin
// or Commit it accepts decodes as pglogrepl decodes it.
func FuzzTxClock(f *testing.F) {
	f.Add(beginMsg(1, 2, 3), []byte{'I', 0}, commitMsg(0, 1, 2, 3))
	f.Add(beginMsg(0, -1, 0), []byte{}, commitMsg(255, 0, 0, -1<<62))
	f.Add([]byte{'C'}, []byte{'B'}, []byte{'I'})
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		var tx txClock
		for _, m := range [][]byte{a, b, c} {
			wasOpen := tx.open
			got, done, err := tx.feed(m)
			if err != nil || len(m) == 0 {
				continue
			}
			switch m[0] {
			case 'B':
				if wasOpen || !tx.open || tx.rows != 0 {
					t.Fatalf("Begin accepted inside a transaction or not opening one")
				}
				p, perr := pglogrepl.Parse(m)
				bm, ok := p.(*pglogrepl.BeginMessage)
				final, _, xid, _ := parseBegin(m)
				if perr != nil || !ok || bm.FinalLSN != final || bm.Xid != xid {
					t.Fatalf("Begin %x: pglogrepl says %+v %v", m, p, perr)
				}
			case 'C':
				if !wasOpen || !done || tx.open {
					t.Fatalf("Commit accepted without an open transaction")
				}
				p, perr := pglogrepl.Parse(m)
				cm, ok := p.(*pglogrepl.CommitMessage)
				if perr != nil || !ok || cm.Flags != got.flags || cm.CommitLSN != got.commitLSN || cm.TransactionEndLSN != got.endLSN {
					t.Fatalf("Commit %x: pglogrepl says %+v %v, we %+v", m, p, perr, got)
				}
				if got.micros > -1e15 && got.micros < 1e15 && !cm.CommitTime.Equal(got.time()) {
					t.Fatalf("Commit %x: time %s, pglogrepl %s", m, got.time(), cm.CommitTime)
				}
			}
		}
	})
}
