package pipeline

import (
	"context"
	"fmt"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/schema"
)

// txMeta numbers the events of the streamed transaction being published
// and publishes transaction metadata (config transaction_metadata, as
// Debezium's provide.transaction.metadata): a BEGIN record before the first
// event of a streamed transaction that publishes any, and an END record
// with the transaction's event counts after its last. Both are tracked in
// the transaction like its changes, so the checkpoint never passes a
// transaction whose BEGIN or END Kafka has not acknowledged; a replay
// publishes them again with the same id. The events are its row changes,
// truncates and transactional logical decoding messages that the sink
// took, after the rules, as Debezium's TransactionMonitor counts them (a
// transaction holding only a message gets its BEGIN and END too).
// Snapshot reads, non-transactional messages and heartbeats are in no
// transaction and are neither counted nor announced.
//
// The same counts number the events (event.Change.TotalOrder and
// DataCollectionOrder, whatever transaction_metadata says): an event's
// positions are the counts before it plus one, so they run from 1 to END's
// event_count and to its collection's, without holes for what the rules
// drop. Owned by the publisher goroutine.
type txMeta struct {
	topic string // "" = publish no BEGIN/END
	tx    *event.Tx
	begun bool
	count int64
	cols  []txCollCount
	index map[collection]int // its entry in cols
	last  int                // the entry of the last change counted (-1: none): most changes are of its collection
	names []schema.TxCollection
}

// collection identifies a data collection of a transaction: a table by its
// schema and name, or the logical messages of one prefix (name). The two
// are kept apart even when a prefix reads like a table name. Its strings
// are the change's own, so looking one up allocates nothing.
type collection struct {
	message      bool
	schema, name string
}

// txCollCount is one collection's events so far in the transaction.
type txCollCount struct {
	c collection
	n int64
}

func newTxMeta(on bool, topicPrefix string) txMeta {
	m := txMeta{index: map[collection]int{}, last: -1}
	if on {
		m.topic = schema.TransactionTopic(topicPrefix)
	}
	return m
}

// begin starts a new transaction; nothing is published until its first change.
func (m *txMeta) begin(tx *event.Tx) {
	m.tx, m.begun, m.count, m.cols, m.last = tx, false, 0, m.cols[:0], -1
	clear(m.index)
}

// counts reports whether ch is an event of the transaction: a streamed row
// change or truncate, or a transactional logical decoding message.
func (m *txMeta) counts(ch *event.Change) bool {
	if m.tx == nil {
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
	return collection{schema: ch.Relation.Schema, name: ch.Relation.Table}
}

// number sets ch's transaction block positions, before the rules decide
// on it: the next position of the transaction and of ch's collection. A
// change that publishes nothing takes none (afterChange counts only what
// was published), so the next one gets the same positions. The create half
// of a key change takes the position after its delete (session.encode).
func (m *txMeta) number(ch *event.Change) {
	if !m.counts(ch) {
		return
	}
	ch.TotalOrder, ch.DataCollectionOrder = uint32(m.count+1), 1
	if i, ok := m.find(collectionOf(ch)); ok {
		ch.DataCollectionOrder = uint32(m.cols[i].n + 1)
	}
}

// find returns c's entry in cols, trying the last one counted first (a
// string comparison instead of hashing both names).
func (m *txMeta) find(c collection) (int, bool) {
	if m.last >= 0 && m.cols[m.last].c == c {
		return m.last, true
	}
	i, ok := m.index[c]
	return i, ok
}

// afterChange counts the events of ch among recs, the records of it the
// sink took: every record but a tombstone, so a key-changing update counts
// as its delete and its create, and a message as one, as in Debezium.
func (m *txMeta) afterChange(ch *event.Change, recs []event.Record) {
	if !m.counts(ch) {
		return
	}
	n := int64(changeEvents(ch, recs))
	if n == 0 { // dropped: not a collection of the transaction
		return
	}
	m.count += n
	c := collectionOf(ch)
	i, ok := m.find(c)
	if !ok {
		i = len(m.cols)
		m.index[c] = i
		m.cols = append(m.cols, txCollCount{c: c})
	}
	m.cols[i].n += n
	m.last = i
}

// collections returns the transaction's collections with their event
// counts, in order of first appearance, for its END record. The slice is
// reused by the next call.
func (m *txMeta) collections() []schema.TxCollection {
	m.names = m.names[:0]
	for _, e := range m.cols {
		name := e.c.name
		if !e.c.message {
			name = pgident.Format(e.c.schema, e.c.name) // as Relation.QualifiedName
		}
		m.names = append(m.names, schema.TxCollection{Name: name, EventCount: e.n})
	}
	return m.names
}

// beforeChange publishes the transaction's BEGIN record before ch, its
// first published event.
func (p *publisher) beforeChange(ctx context.Context, txn *checkpoint.Txn, ch *event.Change) error {
	m := &p.meta
	if m.topic == "" || !m.counts(ch) || m.begun {
		return nil
	}
	m.begun = true
	return p.sendTxMeta(ctx, txn, &schema.TxMetadata{Status: schema.TxBegin, Tx: m.tx})
}

// atCommit publishes the END record of a transaction that published a
// BEGIN, in txn before it commits.
func (p *publisher) atCommit(ctx context.Context, txn *checkpoint.Txn) error {
	m := &p.meta
	if !m.begun { // off, or nothing of the transaction was published
		m.tx = nil
		return nil
	}
	end := &schema.TxMetadata{Status: schema.TxEnd, Tx: m.tx, EventCount: m.count, Collections: m.collections()}
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
