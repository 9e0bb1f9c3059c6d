package pipeline

import (
	"testing"

	"github.com/walrelay/walrelay/event"
)

// BenchmarkTxMetaNumber is the per-change cost of numbering an event and
// counting it for END (txMeta.number and afterChange), for a transaction of
// 1000 inserts into one table.
func BenchmarkTxMetaNumber(b *testing.B) {
	rel := &event.Relation{OID: 1, Schema: "public", Table: "orders"}
	tx := &event.Tx{}
	recs := []event.Record{{Value: []byte("{}")}}
	chs := make([]event.Change, 1000)
	for i := range chs {
		chs[i] = event.Change{Op: event.OpCreate, Relation: rel, Tx: tx}
	}
	m := newTxMeta(false, "app")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(chs)
		if j == 0 {
			m.begin(tx)
		}
		m.number(&chs[j])
		m.afterChange(&chs[j], recs)
	}
}
