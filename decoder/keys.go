package decoder

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/internal/waits"
)

// KeyLookup names the columns of a table's key indexes, in index order
// (pg_index.indkey), which is the order Debezium gives its key fields.
//
// PrimaryKey serves tables under REPLICA IDENTITY FULL, where pgoutput flags
// every column as part of the identity but Kafka keys must be the primary
// key (as in Debezium): it names the key's columns and their order.
// IdentityIndex serves REPLICA IDENTITY INDEX, whose key is the replica
// identity index. Under DEFAULT the key is the primary key. In both of
// these pgoutput flags the key columns itself but gives no order, so the
// decoder asks only when two or more columns are flagged. An empty answer
// means the table has no such index.
//
// The decoder calls them from its caller's goroutine (the replication
// reader) for every Relation message that needs them: the first one, each
// one PostgreSQL re-sends after DDL or another invalidation of the table,
// and the first of every session. A key that differs from the cached one
// (other columns, or the same columns in another order) makes a new
// relation version, so ADD PRIMARY KEY, DROP CONSTRAINT of the primary key
// and a primary key on other columns, or in another order, take effect from
// the next change on. An error fails the Relation message (Decode returns
// it).
//
// The answer is the catalog as of the look-up, not as of the WAL being
// decoded: the key order of a change written before a primary-key change
// but decoded after it (a backlog, a restart) follows the newer key.
// Debezium reads its key from the live catalog the same way. Under DEFAULT
// and INDEX the key's columns are always the ones pgoutput flags; an answer
// naming other columns is read again for up to keyRetryBudget and then
// replaced by column order (see catalogKeyNames), so a transaction decoded
// before its own commit is visible gets its new key's order.
type KeyLookup interface {
	PrimaryKey(ctx context.Context, relOID uint32) ([]string, error)
	IdentityIndex(ctx context.Context, relOID uint32) ([]string, error)
}

const primaryKeyQuery = `SELECT coalesce(array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)), '{}')
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey::int2[])
WHERE i.indrelid = $1 AND i.indisprimary`

const identityIndexQuery = `SELECT coalesce(array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)), '{}')
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey::int2[])
WHERE i.indrelid = $1 AND i.indisreplident`

// PrimaryKey implements KeyLookup with pg_index. It is not cached: the
// decoder asks once per Relation message that needs it.
func (c *Catalog) PrimaryKey(ctx context.Context, relOID uint32) ([]string, error) {
	var cols []string
	if err := c.scan(ctx, primaryKeyQuery, relOID, &cols); err != nil {
		return nil, fmt.Errorf("query pg_index for the primary key of relation OID %d: %w", relOID, err)
	}
	return cols, nil
}

// IdentityIndex implements KeyLookup with pg_index (indisreplident). It is
// not cached: the decoder asks once per Relation message that needs it.
func (c *Catalog) IdentityIndex(ctx context.Context, relOID uint32) ([]string, error) {
	var cols []string
	if err := c.scan(ctx, identityIndexQuery, relOID, &cols); err != nil {
		return nil, fmt.Errorf("query pg_index for the replica identity index of relation OID %d: %w", relOID, err)
	}
	return cols, nil
}

// needsKeyLookup reports whether rel's key comes (in part) from the
// catalog: its flags and order under REPLICA IDENTITY FULL, its order when
// pgoutput flags two or more columns. rel's flags must be pgoutput's.
func (d *Decoder) needsKeyLookup(rel *event.Relation) bool {
	if d.keys == nil {
		return false
	}
	if rel.ReplicaIdentity == event.IdentityFull {
		return true
	}
	n := 0
	for i := range rel.Columns {
		if rel.Columns[i].Key {
			n++
		}
	}
	return n >= 2
}

// keyRetryFirst and keyRetryBudget bound catalogKeyNames' re-reads of a
// catalog that does not show the key pgoutput flags yet: the first wait,
// doubled after each read, and the total. Variables so tests can shorten
// them.
var keyRetryFirst, keyRetryBudget = 2 * time.Millisecond, 2 * time.Second

// catalogKeyNames asks the catalog for the key of rel, whose flags must be
// pgoutput's (see KeyLookup): the primary key under REPLICA IDENTITY FULL
// and DEFAULT, the replica identity index under INDEX. Call it only when
// needsKeyLookup(rel).
//
// Under DEFAULT and INDEX the answer must name the columns pgoutput flags.
// When it does not, the catalog is behind the WAL: the walsender decodes a
// transaction as soon as its commit record is flushed, before the commit is
// visible to other sessions, so a transaction that replaces the primary key
// and writes rows after the DDL is often decoded while the catalog still
// shows the old index. catalogKeyNames then reads again after 2 ms,
// doubling the wait, for at most keyRetryBudget. If the sets still differ
// (a later DDL already committed, or the commit stays invisible, as under
// synchronous replication), it returns the flagged columns in column order
// and logs a warning (see fallbackKeyNames).
func (d *Decoder) catalogKeyNames(ctx context.Context, rel *event.Relation) ([]string, error) {
	names, err := d.lookupKey(ctx, rel)
	if err != nil || rel.ReplicaIdentity == event.IdentityFull || flagsMatch(rel.Columns, names) {
		return names, err
	}
	deadline := time.Now().Add(keyRetryBudget)
	for wait := keyRetryFirst; ; wait *= 2 {
		left := time.Until(deadline)
		if left <= 0 {
			return d.fallbackKeyNames(rel, names), nil
		}
		if err := waits.Sleep(ctx, min(wait, left)); err != nil {
			return nil, fmt.Errorf("waiting for the catalog to show the key of %s: %w", rel.QualifiedName(), err)
		}
		if names, err = d.lookupKey(ctx, rel); err != nil || flagsMatch(rel.Columns, names) {
			return names, err
		}
	}
}

// lookupKey is one catalog read of rel's key (see catalogKeyNames).
func (d *Decoder) lookupKey(ctx context.Context, rel *event.Relation) ([]string, error) {
	if rel.ReplicaIdentity == event.IdentityIndex {
		return d.keys.IdentityIndex(ctx, rel.OID)
	}
	return d.keys.PrimaryKey(ctx, rel.OID)
}

// flagsMatch reports whether names, a key the catalog names, covers exactly
// the Key columns of cols. Names that are no column of cols are ignored: a
// publication's column list may leave key columns out of the message.
func flagsMatch(cols []event.Column, names []string) bool {
	for i := range cols {
		if slices.Contains(names, cols[i].Name) != cols[i].Key {
			return false
		}
	}
	return true
}

// fallbackKeyNames names rel's Key columns in column order, for a key the
// catalog still does not show after keyRetryBudget; catalog is its answer.
//
// Column order is the choice that keeps a row's key bytes stable in the
// likely cases. The transactions decoded after the DDL becomes visible get
// the new index's order, unknown here; a composite key is most often
// declared in column order, and the order of the old index, which names
// other columns, says nothing about it. When a later DDL already replaced
// the key, the rows of this message carry a key set that the later
// transactions do not use at all. Column order also depends on the message
// alone, so a replay decodes the same bytes whatever the catalog shows then.
func (d *Decoder) fallbackKeyNames(rel *event.Relation, catalog []string) []string {
	var names []string
	for i := range rel.Columns {
		if rel.Columns[i].Key {
			names = append(names, rel.Columns[i].Name)
		}
	}
	d.log.Warn().Str("table", rel.QualifiedName()).Strs("flagged", names).Strs("catalog", catalog).
		Float64("waited_seconds", logfield.Seconds(keyRetryBudget)).
		Msg("the catalog's key does not match the replication stream's; the key is in column order")
	return names
}

// applyKey completes the key of rel, whose flags are pgoutput's, with
// names, the catalog's answer: under REPLICA IDENTITY FULL the Key flags
// (all set) become the primary key's; KeyOrder follows names.
func applyKey(rel *event.Relation, names []string) {
	if rel.ReplicaIdentity == event.IdentityFull {
		for i := range rel.Columns {
			rel.Columns[i].Key = slices.Contains(names, rel.Columns[i].Name)
		}
	}
	rel.KeyOrder = keyOrder(rel.Columns, names)
}

// keyOrder returns the indexes of the Key columns of cols in the order
// names lists them, followed by any Key column names lacks, in column order
// (catalogKeyNames returns no such names; this keeps KeyOrder exactly the
// Key columns whatever names holds). It returns nil when that is column
// order, so a key declared in column order keeps KeyOrder nil.
func keyOrder(cols []event.Column, names []string) []int {
	var order []int
	for _, n := range names {
		i := slices.IndexFunc(cols, func(c event.Column) bool { return c.Key && c.Name == n })
		if i >= 0 && !slices.Contains(order, i) {
			order = append(order, i)
		}
	}
	for i := range cols {
		if cols[i].Key && !slices.Contains(order, i) {
			order = append(order, i)
		}
	}
	if slices.IsSorted(order) {
		return nil
	}
	return order
}

// keyChange compares names, the key the catalog names now, with the key of
// rel, a cached relation whose Relation message came again unchanged. It
// returns "" when they are the same (Key flags and order), else the reason
// for a new version: "primary key changed" (other columns) or "key order
// changed". rawKey reports the flags pgoutput sent (rel's own are replaced
// under FULL).
func keyChange(rel *event.Relation, rawKey func(i int) bool, names []string) string {
	probe := *rel
	probe.Columns = slices.Clone(rel.Columns)
	for i := range probe.Columns {
		probe.Columns[i].Key = rawKey(i)
	}
	applyKey(&probe, names)
	for i := range rel.Columns {
		if rel.Columns[i].Key != probe.Columns[i].Key {
			return "primary key changed"
		}
	}
	if !slices.Equal(rel.KeyOrder, probe.KeyOrder) {
		return "key order changed"
	}
	return ""
}

// keyNames names rel's key columns in key order, for logs.
func keyNames(rel *event.Relation) []string {
	idx := rel.KeyColumns()
	names := make([]string, len(idx))
	for i, c := range idx {
		names[i] = rel.Columns[c].Name
	}
	return names
}
