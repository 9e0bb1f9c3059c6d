package decoder

import (
	"context"
	"fmt"

	"github.com/jackc/pglogrepl"

	"github.com/walrelay/walrelay/event"
)

// row decodes an Insert, Update or Delete, read in place by rowMsg.parse.
// Once a large message is decoded, rowBuf lets go of it (slab.go).
func (d *Decoder) row(ctx context.Context, lsn event.LSN, data []byte) (Result, error) {
	m := &d.rowBuf
	err := m.parse(data)
	var res Result
	if err != nil {
		err = fmt.Errorf("decoder: message at LSN %s: %w", lsn, err)
	} else {
		res, err = d.rowChange(ctx, lsn, m)
	}
	if d.slabs.own {
		m.forget()
	}
	return res, err
}

// rowChange makes the change of a parsed Insert, Update or Delete.
func (d *Decoder) rowChange(ctx context.Context, lsn event.LSN, m *rowMsg) (Result, error) {
	switch m.typ {
	case 'I':
		return d.insert(ctx, lsn, m)
	case 'U':
		return d.update(ctx, lsn, m)
	}
	return d.delete(ctx, lsn, m)
}

func (d *Decoder) insert(ctx context.Context, lsn event.LSN, m *rowMsg) (Result, error) {
	e, err := d.entry("Insert", lsn, m.relOID)
	if err != nil {
		return Result{}, err
	}
	vals := d.slabs.row(len(e.convs))
	if err := e.decodeNew(vals, m.new, nil); err != nil {
		return Result{}, fmt.Errorf("decoder: Insert into %s at LSN %s: %w", e.rel.QualifiedName(), lsn, err)
	}
	if e, err = d.knownLabels(ctx, lsn, e, vals); err != nil {
		return Result{}, err
	}
	c, cs := d.nextChange(event.OpCreate, lsn, e)
	c.After = vals
	return Result{Kind: KindChanges, Tx: d.tx, Changes: cs}, nil
}

func (d *Decoder) update(ctx context.Context, lsn event.LSN, m *rowMsg) (Result, error) {
	e, err := d.entry("Update", lsn, m.relOID)
	if err != nil {
		return Result{}, err
	}
	n := len(e.convs)
	var before, after []any
	if m.oldKind != 0 {
		vals := d.slabs.row(2 * n)
		before, after = vals[:n:n], vals[n:]
		if err := e.decodeOld(before, m.oldKind, m.old); err != nil {
			return Result{}, fmt.Errorf("decoder: Update of %s at LSN %s, old tuple: %w", e.rel.QualifiedName(), lsn, err)
		}
	} else {
		after = d.slabs.row(n)
	}
	if err := e.decodeNew(after, m.new, before); err != nil {
		return Result{}, fmt.Errorf("decoder: Update of %s at LSN %s: %w", e.rel.QualifiedName(), lsn, err)
	}
	if e, err = d.knownLabels(ctx, lsn, e, before, after); err != nil {
		return Result{}, err
	}
	c, cs := d.nextChange(event.OpUpdate, lsn, e)
	c.Before, c.After = before, after
	return Result{Kind: KindChanges, Tx: d.tx, Changes: cs}, nil
}

func (d *Decoder) delete(ctx context.Context, lsn event.LSN, m *rowMsg) (Result, error) {
	e, err := d.entry("Delete", lsn, m.relOID)
	if err != nil {
		return Result{}, err
	}
	before := d.slabs.row(len(e.convs))
	if err := e.decodeOld(before, m.oldKind, m.old); err != nil {
		return Result{}, fmt.Errorf("decoder: Delete from %s at LSN %s: %w", e.rel.QualifiedName(), lsn, err)
	}
	if e, err = d.knownLabels(ctx, lsn, e, before); err != nil {
		return Result{}, err
	}
	c, cs := d.nextChange(event.OpDelete, lsn, e)
	c.Before = before
	return Result{Kind: KindChanges, Tx: d.tx, Changes: cs}, nil
}

// truncate emits one change per truncated relation, in message order. All
// relations are checked before any ordinal is taken, so an error leaves the
// transaction's counters untouched.
func (d *Decoder) truncate(lsn event.LSN, m *pglogrepl.TruncateMessage) (Result, error) {
	entries := make([]*relEntry, len(m.RelationIDs))
	for i, oid := range m.RelationIDs {
		e, err := d.entry("Truncate", lsn, oid)
		if err != nil {
			return Result{}, err
		}
		entries[i] = e
	}
	changes := make([]*event.Change, len(entries))
	for i, e := range entries {
		c, _ := d.nextChange(event.OpTruncate, lsn, e)
		changes[i] = c
	}
	return Result{Kind: KindChanges, Tx: d.tx, Changes: changes}, nil
}

// message turns a pg_logical_emit_message into an OpMessage change: inside
// the current transaction when transactional, else standalone with a
// synthetic transaction {Xid: 0, CommitLSN: message LSN}. CollectionOrder
// counts the transaction's messages with the same prefix. Content is never
// nil: an empty message is an empty value downstream, not a tombstone that
// would delete the prefix's earlier messages on a compacted topic.
func (d *Decoder) message(lsn event.LSN, m *pglogrepl.LogicalDecodingMessage) (Result, error) {
	lm := &event.LogicalMessage{
		Transactional: m.Transactional,
		Prefix:        m.Prefix,
		Content:       append([]byte{}, m.Content...), // Content aliases the caller's buffer; empty stays non-nil (nil is a tombstone)
	}
	if !m.Transactional {
		tx := &event.Tx{CommitLSN: m.LSN}
		c := &event.Change{Op: event.OpMessage, Tx: tx, Ordinal: 1, CollectionOrder: 1, LSN: lsn, Message: lm}
		return Result{Kind: KindStandalone, Tx: tx, EndLSN: m.LSN, Changes: []*event.Change{c}}, nil
	}
	if d.tx == nil {
		return Result{}, fmt.Errorf("decoder: transactional logical message (prefix %q) at LSN %s outside a transaction", m.Prefix, lsn)
	}
	c, cs := d.nextChange(event.OpMessage, lsn, nil)
	c.Message = lm
	c.CollectionOrder = d.prefixOrder(m.Prefix)
	return Result{Kind: KindChanges, Tx: d.tx, Changes: cs}, nil
}

func (d *Decoder) prefixOrder(prefix string) uint32 {
	for i := range d.msgOrder {
		if d.msgOrder[i].prefix == prefix {
			d.msgOrder[i].n++
			return d.msgOrder[i].n
		}
	}
	d.msgOrder = append(d.msgOrder, prefixCount{prefix: prefix, n: 1})
	return 1
}
