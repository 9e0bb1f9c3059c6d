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
// event of a streamed transaction that publishes any, and an END record
// with the transaction's event counts after its last. Both are tracked in
// the transaction like its changes, so the checkpoint never passes a
// transaction whose BEGIN or END Kafka has not acknowledged; a replay
// publishes them again with the same id. The events are its row changes,
// truncates and transactional logical decoding messages, as Debezium's
// TransactionMonitor counts them (a transaction holding only a message
// gets its BEGIN and END too). Snapshot reads, non-transactional messages
// and heartbeats are in no transaction and are neither counted nor
// announced. Owned by the publisher goroutine.
type txMeta struct {
	topic string // "" = off
	tx    *event.Tx
	begun bool
	count int64
	cols  []schema.TxCollection
	index map[collection]int // its entry in cols
}

// collection identifies a data collection of a transaction: a table by its
// qualified name, or the logical messages of one prefix. The two are kept
// apart even when a prefix reads like a table name.
type collection struct {
	message bool
	name    string
}

func newTxMeta(on bool, topicPrefix string) txMeta {
	if !on {
		return txMeta{}
	}
	return txMeta{topic: schema.TransactionTopic(topicPrefix), index: map[collection]int{}}
}

// begin starts a new transaction; nothing is published until its first change.
func (m *txMeta) begin(tx *event.Tx) {
	if m.topic == "" {
		return
	}
	m.tx, m.begun, m.count, m.cols = tx, false, 0, m.cols[:0]
	clear(m.index)
}

// counts reports whether ch is an event of the transaction: a streamed row
// change or truncate, or a transactional logical decoding message.
func (m *txMeta) counts(ch *event.Change) bool {
	if m.topic == "" || m.tx == nil {
		return false
	}
	if ch.Op == event.OpMessage {
		return ch.Message != nil && ch.Message.Transactional
	}
	return ch.Relation != nil && ch.Op != event.OpRead
}

// collectionOf returns the data collection ch counts under: its table
// (schema.table), or for a logical decoding message its prefix, the
// collection its data_collection_order counts in. (Debezium names each
// message's collection after a fresh Java object,
// io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$LogicalDecodingMessageId@<identity hash>,
// one per message, a name no consumer can predict or map to a topic.)
func collectionOf(ch *event.Change) collection {
	if ch.Op == event.OpMessage {
		return collection{message: true, name: ch.Message.Prefix}
	}
	return collection{name: ch.Relation.QualifiedName()}
}

// beforeChange publishes the transaction's BEGIN record before ch, its
// first published event.
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
// as its delete and its create, and a message as one, as in Debezium.
func (m *txMeta) afterChange(ch *event.Change, recs []event.Record) {
	if !m.counts(ch) {
		return
	}
	n := int64(changeEvents(ch, recs))
	m.count += n
	c := collectionOf(ch)
	i, ok := m.index[c]
	if !ok {
		i = len(m.cols)
		m.index[c] = i
		m.cols = append(m.cols, schema.TxCollection{Name: c.name})
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
