package snapshot

import (
	"context"
	"fmt"
	"time"
)

// chunkTask is one chunk of one table.
type chunkTask struct {
	p     *TablePlan
	chunk int
}

// Read reads every chunk of every table on Parallelism reader goroutines and
// sends the rows to out in Batches, then closes out. Batches of one chunk
// arrive in order; chunks and tables interleave in no particular order (the
// ordinals make them deterministic). A full out stops the readers, which
// bounds memory.
//
// Read returns nil once every planned row was sent, or the first error (a
// query or conversion failure naming the table and chunk, a chunk whose row
// count differs from the plan, or ctx's error). It is called once, after
// Open. The caller must keep receiving from out until it is closed.
func (r *Reader) Read(ctx context.Context, out chan<- *Batch) error {
	defer close(out)
	tasks := make(chan chunkTask, 64)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(tasks)
		for _, p := range r.plans {
			for c := range p.Chunks {
				select {
				case tasks <- chunkTask{p, c}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return r.each(ctx, func(ctx context.Context, w *worker) error {
		for t := range tasks {
			if err := w.readChunk(ctx, t.p, t.chunk, out); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

// readChunk streams chunk c of p into out, BatchRows rows at a time, and
// checks that it held exactly the rows the plan counted.
func (w *worker) readChunk(ctx context.Context, p *TablePlan, c int, out chan<- *Batch) error {
	sql, args := p.chunkQuery(c)
	first := uint64(c) * uint64(p.chunkSize)
	batchRows := w.r.opts.BatchRows
	b := &Batch{Table: p, Row: first, Rows: make([][]any, 0, batchRows)}
	var n uint64
	var failed error
	rr := w.conn.PgConn().ExecParams(ctx, sql, args, nil, nil, nil)
	for failed == nil && rr.NextRow() {
		row, err := p.Decoder.DecodeRow(rr.Values())
		if err != nil {
			failed = fmt.Errorf("snapshot: %s chunk %d row %d: %w", p.Table, c, n, err)
			break
		}
		b.Rows = append(b.Rows, row)
		n++
		if len(b.Rows) == batchRows {
			failed = send(ctx, out, b)
			b = &Batch{Table: p, Row: first + n, Rows: make([][]any, 0, batchRows)}
		}
	}
	if failed != nil && ctx.Err() == nil {
		cancelQuery(w) // do not read the rest of a large chunk only to discard it
	}
	_, err := rr.Close()
	if failed != nil {
		return failed
	}
	if err != nil {
		return fmt.Errorf("snapshot: reading %s chunk %d of %d: %w", p.Table, c+1, p.Chunks, err)
	}
	if len(b.Rows) > 0 {
		if err := send(ctx, out, b); err != nil {
			return err
		}
	}
	if want := p.rowsIn(c); n != want {
		return fmt.Errorf("snapshot: %s chunk %d of %d returned %d rows, the plan counted %d in the same snapshot "+
			"(a key whose order and comparison disagree?)", p.Table, c+1, p.Chunks, n, want)
	}
	return nil
}

func send(ctx context.Context, out chan<- *Batch, b *Batch) error {
	select {
	case out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cancelQuery asks the server to cancel the worker's running query.
func cancelQuery(w *worker) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.conn.PgConn().CancelRequest(ctx)
}
