package replication

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

func TestStatusUpdateSetsAllPositions(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, lsn := range []pglogrepl.LSN{0, 1, 0x16B3748, 1 << 40} {
		u := statusUpdate(lsn, now)
		if u.WALWritePosition != lsn || u.WALFlushPosition != lsn || u.WALApplyPosition != lsn {
			t.Errorf("statusUpdate(%s) = %+v, want write=flush=apply=%s", lsn, u, lsn)
		}
		if u.ReplyRequested || !u.ClientTime.Equal(now) {
			t.Errorf("statusUpdate(%s) = %+v", lsn, u)
		}
	}
}

func TestParseCopyData(t *testing.T) {
	t.Parallel()
	ka := make([]byte, 18)
	ka[0] = pglogrepl.PrimaryKeepaliveMessageByteID
	binary.BigEndian.PutUint64(ka[1:], 0x1234)
	ka[17] = 1
	m, ok, err := parseCopyData(ka)
	if err != nil || !ok || !m.Keepalive || m.ServerWALEnd != 0x1234 || !m.ReplyRequested {
		t.Fatalf("keepalive: %+v %v %v", m, ok, err)
	}
	x := make([]byte, 25+3)
	x[0] = pglogrepl.XLogDataByteID
	binary.BigEndian.PutUint64(x[1:], 0x10)
	binary.BigEndian.PutUint64(x[9:], 0x20)
	copy(x[25:], "abc")
	m, ok, err = parseCopyData(x)
	if err != nil || !ok || m.Keepalive || m.WALStart != 0x10 || m.ServerWALEnd != 0x20 || string(m.Data) != "abc" {
		t.Fatalf("xlogdata: %+v %v %v", m, ok, err)
	}
	for _, bad := range [][]byte{nil, {pglogrepl.XLogDataByteID, 1}, {pglogrepl.PrimaryKeepaliveMessageByteID, 1, 2}} {
		if _, _, err := parseCopyData(bad); err == nil {
			t.Errorf("parseCopyData(%v): no error", bad)
		}
	}
}

func FuzzParseCopyData(f *testing.F) {
	f.Add([]byte{pglogrepl.XLogDataByteID})
	f.Add([]byte{pglogrepl.PrimaryKeepaliveMessageByteID, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = parseCopyData(b)
	})
}
