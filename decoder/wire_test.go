package decoder

import (
	"encoding/binary"
	"time"
)

// Builders of synthetic pgoutput v1 messages, laid out as in the protocol
// documentation ("Logical Replication Message Formats").

type wbuf []byte

func (b wbuf) u8(v byte) wbuf    { return append(b, v) }
func (b wbuf) u16(v uint16) wbuf { return binary.BigEndian.AppendUint16(b, v) }
func (b wbuf) u32(v uint32) wbuf { return binary.BigEndian.AppendUint32(b, v) }
func (b wbuf) u64(v uint64) wbuf { return binary.BigEndian.AppendUint64(b, v) }
func (b wbuf) str(s string) wbuf { return append(append(b, s...), 0) }
func (b wbuf) raw(p []byte) wbuf { return append(b, p...) }
func (b wbuf) i32(v int32) wbuf  { return b.u32(uint32(v)) }
func (b wbuf) pgTime(t time.Time) wbuf {
	return b.u64(uint64(t.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds()))
}

type wcol struct {
	flags  byte
	name   string
	oid    uint32
	typmod int32
}

func relMsg(oid uint32, ns, name string, ident byte, cols ...wcol) []byte {
	b := wbuf{'R'}.u32(oid).str(ns).str(name).u8(ident).u16(uint16(len(cols)))
	for _, c := range cols {
		b = b.u8(c.flags).str(c.name).u32(c.oid).i32(c.typmod)
	}
	return b
}

func typeMsg(oid uint32, ns, name string) []byte { return wbuf{'Y'}.u32(oid).str(ns).str(name) }

func beginMsg(final uint64, xid uint32, at time.Time) []byte {
	return wbuf{'B'}.u64(final).pgTime(at).u32(xid)
}

func commitMsg(commit, end uint64, at time.Time) []byte {
	return wbuf{'C'}.u8(0).u64(commit).u64(end).pgTime(at)
}

// tv is one tuple value: kind 't' with data, 'n' null, 'u' unchanged TOAST.
type tv struct {
	kind byte
	data string
}

func txt(s string) tv { return tv{'t', s} }

var (
	null  = tv{kind: 'n'}
	toast = tv{kind: 'u'}
)

func (b wbuf) tuple(vals []tv) wbuf {
	b = b.u16(uint16(len(vals)))
	for _, v := range vals {
		b = b.u8(v.kind)
		if v.kind == 't' || v.kind == 'b' {
			b = b.u32(uint32(len(v.data))).raw([]byte(v.data))
		}
	}
	return b
}

func insertMsg(oid uint32, vals ...tv) []byte { return wbuf{'I'}.u32(oid).u8('N').tuple(vals) }

// updateMsg builds an Update; oldKind is 0 (no old tuple), 'K' or 'O'.
func updateMsg(oid uint32, oldKind byte, old, new []tv) []byte {
	b := wbuf{'U'}.u32(oid)
	if oldKind != 0 {
		b = b.u8(oldKind).tuple(old)
	}
	return b.u8('N').tuple(new)
}

func deleteMsg(oid uint32, kind byte, old ...tv) []byte {
	return wbuf{'D'}.u32(oid).u8(kind).tuple(old)
}

func truncateMsg(opts byte, oids ...uint32) []byte {
	b := wbuf{'T'}.u32(uint32(len(oids))).u8(opts)
	for _, o := range oids {
		b = b.u32(o)
	}
	return b
}

func logicalMsg(transactional bool, lsn uint64, prefix string, content []byte) []byte {
	var f byte
	if transactional {
		f = 1
	}
	return wbuf{'M'}.u8(f).u64(lsn).str(prefix).u32(uint32(len(content))).raw(content)
}

func originMsg(lsn uint64, name string) []byte { return wbuf{'O'}.u64(lsn).str(name) }
