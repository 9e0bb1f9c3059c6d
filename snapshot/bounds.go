package snapshot

import (
	"context"
	"fmt"
	"strconv"
)

// bound computes p's chunk bounds and exact row count inside the worker's
// snapshot: one ordered scan of the chunk key keeps every ChunkSize-th key,
// then a count of the rows past the last bound. A table without a chunk key
// is counted and read as one chunk.
func (w *worker) bound(ctx context.Context, p *TablePlan) error {
	if len(p.ChunkKey) == 0 {
		n, err := w.count(ctx, p, "SELECT count(*) FROM "+p.from()+p.where(), nil)
		if err != nil {
			return err
		}
		p.Rows = n
		if n > 0 {
			p.Chunks = 1
		}
		return nil
	}
	k := p.keyList()
	sql := "SELECT " + k + " FROM (SELECT " + k + ", row_number() OVER (ORDER BY " + k + ") AS walrelay_rn FROM " +
		p.from() + p.where() + ") walrelay_b WHERE walrelay_rn % $1 = 0 ORDER BY " + k
	rr := w.conn.PgConn().ExecParams(ctx, sql, [][]byte{[]byte(strconv.Itoa(p.chunkSize))}, nil, nil, nil)
	for rr.NextRow() {
		vals := rr.Values()
		b := make([][]byte, len(vals))
		for i, v := range vals {
			b[i] = append([]byte(nil), v...)
		}
		p.bounds = append(p.bounds, b)
	}
	if _, err := rr.Close(); err != nil {
		return fmt.Errorf("snapshot: computing the chunk bounds of %s: %w", p.Table, err)
	}
	var tail uint64
	if len(p.bounds) == 0 {
		n, err := w.count(ctx, p, "SELECT count(*) FROM "+p.from()+p.where(), nil)
		if err != nil {
			return err
		}
		tail = n
	} else {
		n, err := w.count(ctx, p, "SELECT count(*) FROM "+p.from()+p.where(p.keyRow()+" > "+p.paramRow(1)),
			p.bounds[len(p.bounds)-1])
		if err != nil {
			return err
		}
		tail = n
	}
	p.Rows = uint64(len(p.bounds))*uint64(p.chunkSize) + tail
	p.Chunks = len(p.bounds)
	if tail > 0 {
		p.Chunks++
	}
	return nil
}

// count runs a count(*) query with text parameters.
func (w *worker) count(ctx context.Context, p *TablePlan, sql string, args [][]byte) (uint64, error) {
	rr := w.conn.PgConn().ExecParams(ctx, sql, args, nil, nil, nil)
	var n uint64
	var perr error
	for rr.NextRow() {
		n, perr = strconv.ParseUint(string(rr.Values()[0]), 10, 64)
	}
	if _, err := rr.Close(); err != nil {
		return 0, fmt.Errorf("snapshot: counting the rows of %s: %w", p.Table, err)
	}
	if perr != nil {
		return 0, fmt.Errorf("snapshot: counting the rows of %s: %w", p.Table, perr)
	}
	return n, nil
}
