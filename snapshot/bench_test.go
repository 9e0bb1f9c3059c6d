package snapshot

import (
	"context"
	"testing"

	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/replication"
)

// BenchmarkRead reads a snapshot of 500,000 rows (bigint key, text, numeric,
// timestamptz) and discards the decoded rows: the reader's own throughput,
// without encoding or Kafka.
func BenchmarkRead(b *testing.B) {
	dsn := testenv.PG(b).NewDatabase(b)
	testenv.ExecDSN(b, dsn, `CREATE TABLE big (id bigint PRIMARY KEY, v text, n numeric(10,2), ts timestamptz);
		INSERT INTO big SELECT g, 'value ' || g, g / 100.0, now() FROM generate_series(1, 500000) g`, "VACUUM ANALYZE big")
	b.ResetTimer()
	for range b.N {
		conn, err := replication.ConnectSQL(context.Background(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		e, err := Export(context.Background(), conn)
		if err != nil {
			b.Fatal(err)
		}
		o := options(dsn, e.Name, 2, 50000)
		o.Tables, o.BatchRows = []Table{{"public", "big"}}, 256
		r, err := Open(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		out := make(chan *Batch, 4)
		errc := make(chan error, 1)
		go func() { errc <- r.Read(context.Background(), out) }()
		n := 0
		for b := range out {
			n += len(b.Rows)
		}
		if err := <-errc; err != nil || n != 500000 {
			b.Fatalf("read %d rows: %v", n, err)
		}
		r.Close()
		_ = conn.Close(context.Background())
	}
	b.ReportMetric(500000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
