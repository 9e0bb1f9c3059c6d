package pipeline

import (
	"context"
	"fmt"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema"
)

// txMeta publishes transaction metadata (config transaction_metadata, as
// Debezium's provide.transaction.metadata): a BEGIN record before the first
// change of a streamed transaction that publishes any, and an END record
// with the transaction's event counts after its last. Both are tracked in
// the transaction like its changes, so the checkpoint never passes a
// transaction whose BEGIN or END Kafka has not acknowledged; a replay
// publishes them again with the same id. Snapshot reads, logical decoding
// messages and heartbeats are not data collection events and are neither
// counted nor announced. Owned by the publisher goroutine.
type txMeta struct {
	topic string // "" = off
	tx    *event.Tx
	begun bool
	count int64
	cols  []schema.TxCollection
	index map[string]int // table -> its entry in cols
}

func newTxMeta(on bool, topicPrefix string) txMeta {
	if !on {
		return txMeta{}
	}
	return txMeta{topic: schema.TransactionTopic(topicPrefix), index: map[string]int{}}
}

// begin starts a new transaction; nothing is published until its first change.
func (m *txMeta) begin(tx *event.Tx) {
	if m.topic == "" {
		return
	}
	m.tx, m.begun, m.count, m.cols = tx, false, 0, m.cols[:0]
	clear(m.index)
}

// counts reports whether ch is a data collection event of the
// transaction: a streamed row change or truncate.
func (m *txMeta) counts(ch *event.Change) bool {
	return m.topic != "" && m.tx != nil && ch.Relation != nil && ch.Op != event.OpRead && ch.Op != event.OpMessage
}

// beforeChange publishes the transaction's BEGIN record before ch, its
// first published change.
func (p *publisher) beforeChange(ctx context.Context, txn *checkpoint.Txn, ch *event.Change) error {
	m := &p.meta
	if !m.counts(ch) || m.begun {
		return nil
	}
	m.begun = true
	return p.sendTxMeta(ctx, txn, &schema.TxMetadata{Status: schema.TxBegin, Tx: m.tx})
}

// afterChange counts the events of ch among recs, the records of it the
// sink took: every record but a tombstone, so a key-changing update counts
// as its delete and its create, as in Debezium.
func (m *txMeta) afterChange(ch *event.Change, recs []event.Record) {
	if !m.counts(ch) {
		return
	}
	n := int64(changeEvents(recs))
	m.count += n
	name := ch.Relation.QualifiedName()
	i, ok := m.index[name]
	if !ok {
		i = len(m.cols)
		m.index[name] = i
		m.cols = append(m.cols, schema.TxCollection{Name: name})
	}
	m.cols[i].EventCount += n
}

// atCommit publishes the END record of a transaction that published a
// BEGIN, in txn before it commits.
func (p *publisher) atCommit(ctx context.Context, txn *checkpoint.Txn) error {
	m := &p.meta
	if !m.begun { // off, or nothing of the transaction was published
		m.tx = nil
		return nil
	}
	end := &schema.TxMetadata{Status: schema.TxEnd, Tx: m.tx, EventCount: m.count, Collections: m.cols}
	m.tx, m.begun = nil, false
	return p.sendTxMeta(ctx, txn, end)
}

// sendTxMeta encodes md and hands it to the sink, tracked in txn.
func (p *publisher) sendTxMeta(ctx context.Context, txn *checkpoint.Txn, md *schema.TxMetadata) error {
	rec, err := p.s.enc.EncodeTransaction(md, p.meta.topic)
	if err != nil {
		return fmt.Errorf("encoding the %s record of transaction %s: %w", md.Status, md.Tx.ID(), err)
	}
	_, err = p.s.send(ctx, txn, []event.Record{rec}, p.acquire)
	return err
}
