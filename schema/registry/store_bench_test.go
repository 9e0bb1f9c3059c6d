package registry

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// wideVersion is version v of a subject's record: 200 columns, then one
// more per version, like a wide table after v ADD COLUMNs.
func wideVersion(v int) string {
	w := wideRecord(0)
	var b strings.Builder
	for c := 0; c < v; c++ {
		fmt.Fprintf(&b, `,{"name":"added_%d","type":["null","long"],"default":null}`, c)
	}
	return w[:len(w)-2] + b.String() + `]}`
}

// BenchmarkStoreVersions measures one new version of a wide table's
// subject that already has N versions; heap-MB is the live heap then.
func BenchmarkStoreVersions(b *testing.B) {
	for _, n := range []int{100, 300} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			s, err := OpenStore(b.TempDir(), Backward)
			if err != nil {
				b.Fatal(err)
			}
			for v := 0; v < n+b.N; v++ {
				if v == n {
					runtime.GC()
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					defer b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
					b.ReportAllocs()
					b.ResetTimer()
				}
				if _, err := s.Register(context.Background(), "wide-value", wideVersion(v)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// wideRecord is a 200-column record schema named ns.T<table>, like the
// value schema of a wide table: every registration of it is a new schema.
func wideRecord(table int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"record","name":"T%d","namespace":"ns","fields":[`, table)
	for c := 0; c < 200; c++ {
		if c > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"column_%03d","type":["null","long"],"default":null}`, c)
	}
	b.WriteString(`]}`)
	return b.String()
}

// BenchmarkStoreRegister measures one registration of a new 200-column
// schema (a new subject) in a store that already holds N of them: with a
// store that rewrites everything per registration, ns/op and B/op grow with
// N; with the append-only log they stay flat. heap-MB is the live heap after
// the N registrations (what the store keeps in memory for them).
func BenchmarkStoreRegister(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			s, err := OpenStore(b.TempDir(), Backward)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if _, err := s.Register(context.Background(), fmt.Sprintf("t%d-value", i), wideRecord(i)); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap := float64(ms.HeapAlloc) / (1 << 20)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Register(context.Background(), fmt.Sprintf("new%d-value", i), wideRecord(n+i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(heap, "heap-MB") // after ResetTimer, which drops reported metrics
		})
	}
}
