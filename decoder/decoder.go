package decoder

import (
	"context"
	"fmt"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// Kind says what a decoded message means to the caller.
type Kind int

// Result kinds.
const (
	// KindNone: the message only updated the decoder's state (Relation, Type,
	// Origin) and produced nothing.
	KindNone Kind = iota
	// KindBegin: a transaction started; Result.Tx is it.
	KindBegin
	// KindCommit: the current transaction committed; Result.Tx is it and
	// Result.EndLSN is the commit record's end (the position to confirm).
	KindCommit
	// KindChanges: row changes (or a transactional logical message) of the
	// current transaction.
	KindChanges
	// KindStandalone: a non-transactional logical message, outside any
	// transaction; Result.EndLSN is its LSN.
	KindStandalone
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindBegin:
		return "begin"
	case KindCommit:
		return "commit"
	case KindChanges:
		return "changes"
	case KindStandalone:
		return "standalone"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Result is what Decode made of one message.
type Result struct {
	Kind Kind
	// Tx is the current transaction for KindBegin, KindCommit and KindChanges,
	// and the synthetic transaction {Xid: 0, CommitLSN: message LSN} of a
	// KindStandalone message.
	Tx *event.Tx
	// EndLSN is CommitMessage.TransactionEndLSN for KindCommit (never the
	// commit LSN) and the message LSN for KindStandalone; zero otherwise.
	EndLSN event.LSN
	// Changes holds the changes of KindChanges (insert, update, delete and a
	// transactional logical message: one; truncate: one per truncated
	// relation) and the one change of KindStandalone. The slice and the
	// changes belong to the caller.
	Changes []*event.Change
}

// Options configures a Decoder.
type Options struct {
	// Types resolves type OIDs that pgx does not know (enums, domains, arrays
	// of them, extension types). Nil means such columns are decoded as text
	// (event.KindOther), named after pgoutput's Type message if one came.
	Types TypeLookup
	// Keys names primary keys for REPLICA IDENTITY FULL tables. Nil keeps
	// pgoutput's identity flags (every column under FULL).
	Keys KeyLookup
	// Log receives one line per relation registered (at debug) or changed
	// (at info) and per type that could not be resolved. The zero value logs
	// nothing.
	Log zerolog.Logger
}

// Decoder turns pgoutput protocol-v1 messages into changes. It keeps the
// relation cache and the state of the current transaction.
//
// A Decoder is not safe for concurrent use: the replication reader goroutine
// owns it and calls Decode for every XLogData payload, in stream order.
type Decoder struct {
	types    TypeLookup
	keys     KeyLookup
	log      zerolog.Logger
	pgTypes  *pgtype.Map
	rels     map[uint32]*relEntry
	typeName map[uint32]string // from pgoutput Type messages
	resolved map[uint32]typeDesc

	tx       *event.Tx
	txGen    uint64 // increments per Begin; relEntry.orderGen compares to it
	ordinal  uint32
	msgOrder []prefixCount

	rowBuf rowMsg // reused by every Insert, Update and Delete
	slabs  slabs  // changes and row values (slab.go)
}

// prefixCount is the CollectionOrder counter of one logical-message prefix
// within the current transaction.
type prefixCount struct {
	prefix string
	n      uint32
}

// New returns a Decoder with an empty relation cache.
func New(opts Options) *Decoder {
	return &Decoder{
		types:    opts.Types,
		keys:     opts.Keys,
		log:      opts.Log,
		pgTypes:  pgtype.NewMap(),
		rels:     make(map[uint32]*relEntry),
		typeName: make(map[uint32]string),
		resolved: make(map[uint32]typeDesc),
	}
}

// Reset forgets the open transaction, if any, keeping the relation cache. The
// replication reader calls it after it reconnects, since Postgres then
// restarts the interrupted transaction from its Begin.
func (d *Decoder) Reset() {
	d.tx = nil
	d.ordinal = 0
	d.msgOrder = d.msgOrder[:0]
}

// Decode decodes one XLogData payload whose WAL start is walStart.
//
// ctx bounds the type look-ups a Relation message may cause, and those of a
// row carrying an enum label its cached type does not list. On error the
// decoder's state is unchanged except for a Relation message that failed
// half-way, which leaves the previous version of that relation cached. Errors
// name the LSN and, where there is one, the relation; Decode never panics on
// malformed input. Decode does not retain data: values are copied out, so the
// caller may reuse the buffer once Decode returns. Once the caller has dropped
// the changes it returned, the decoder keeps at most slabBytes (256 KiB) of
// messages' values in memory, however large the rows (slab.go).
func (d *Decoder) Decode(ctx context.Context, walStart event.LSN, data []byte) (Result, error) {
	d.slabs.take(len(data))
	if len(data) > 0 && (data[0] == 'I' || data[0] == 'U' || data[0] == 'D') {
		return d.row(ctx, walStart, data)
	}
	msg, err := parse(data)
	if err != nil {
		return Result{}, fmt.Errorf("decoder: message at LSN %s: %w", walStart, err)
	}
	switch m := msg.(type) {
	case *pglogrepl.BeginMessage:
		return d.begin(walStart, m)
	case *pglogrepl.CommitMessage:
		return d.commit(walStart, m)
	case *pglogrepl.RelationMessage:
		return Result{}, d.relation(ctx, walStart, m)
	case *pglogrepl.TypeMessage:
		d.typeName[m.DataType] = m.Name
		return Result{}, nil
	case *pglogrepl.OriginMessage:
		return Result{}, nil
	case *pglogrepl.TruncateMessage:
		return d.truncate(walStart, m)
	case *pglogrepl.LogicalDecodingMessage:
		return d.message(walStart, m)
	}
	return Result{}, fmt.Errorf("decoder: message at LSN %s: unsupported message type %q", walStart, data[0])
}

func (d *Decoder) begin(lsn event.LSN, m *pglogrepl.BeginMessage) (Result, error) {
	if d.tx != nil {
		return Result{}, fmt.Errorf("decoder: Begin of xid %d at LSN %s while xid %d is open (missing Commit; call Reset after a reconnect)",
			m.Xid, lsn, d.tx.Xid)
	}
	d.tx = &event.Tx{Xid: m.Xid, CommitLSN: m.FinalLSN, CommitTime: m.CommitTime}
	d.txGen++
	d.ordinal = 0
	d.msgOrder = d.msgOrder[:0]
	return Result{Kind: KindBegin, Tx: d.tx}, nil
}

func (d *Decoder) commit(lsn event.LSN, m *pglogrepl.CommitMessage) (Result, error) {
	tx := d.tx
	if tx == nil {
		return Result{}, fmt.Errorf("decoder: Commit at LSN %s without a Begin", lsn)
	}
	if m.CommitLSN != tx.CommitLSN {
		return Result{}, fmt.Errorf("decoder: Commit at LSN %s has commit LSN %s but xid %d began with final LSN %s",
			lsn, m.CommitLSN, tx.Xid, tx.CommitLSN)
	}
	d.Reset()
	d.rowBuf.forget() // the last row's message stays out of memory while idle
	return Result{Kind: KindCommit, Tx: tx, EndLSN: m.TransactionEndLSN}, nil
}

// nextChange allocates a change of the current transaction for rel (nil for
// a logical message) with its ordinals set, and a one-element slice holding it
// in the same allocation.
func (d *Decoder) nextChange(op event.Op, lsn event.LSN, e *relEntry) (*event.Change, []*event.Change) {
	h := d.slabs.change()
	c := &h.c
	d.ordinal++
	c.Op, c.Tx, c.Ordinal, c.LSN = op, d.tx, d.ordinal, lsn
	if e != nil {
		if e.orderGen != d.txGen {
			e.orderGen, e.order = d.txGen, 0
		}
		e.order++
		c.CollectionOrder = e.order
		c.Relation = e.rel
	}
	h.s[0] = c
	return c, h.s[:]
}

// changeHolder puts a change and the slice that carries it in one allocation.
type changeHolder struct {
	c event.Change
	s [1]*event.Change
}

func (d *Decoder) inTx(what string, lsn event.LSN, relOID uint32) error {
	if d.tx == nil {
		return fmt.Errorf("decoder: %s for relation OID %d at LSN %s outside a transaction", what, relOID, lsn)
	}
	return nil
}

func (d *Decoder) entry(what string, lsn event.LSN, relOID uint32) (*relEntry, error) {
	if err := d.inTx(what, lsn, relOID); err != nil {
		return nil, err
	}
	e := d.rels[relOID]
	if e == nil {
		return nil, fmt.Errorf("decoder: %s at LSN %s for unknown relation OID %d (no Relation message seen)", what, lsn, relOID)
	}
	return e, nil
}
