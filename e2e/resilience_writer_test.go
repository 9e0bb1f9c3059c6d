package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// txlogDDL is the uncaptured table in which every retryWriter transaction
// inserts its number, so that its outcome can be looked up after the
// connection was lost during it.
const txlogDDL = `CREATE TABLE res_txlog (id bigint PRIMARY KEY);`

// retryWriter runs clients that write the workload tables (wlTables) through
// server restarts and record in a workload's ledger exactly the changes that
// committed. Each client owns the rows it inserted, so it knows every row's
// version without reading it back; each transaction also inserts its number
// into res_txlog. When an attempt fails (connection lost, server down), the
// client reconnects, looks its number up in res_txlog and either records the
// transaction (it committed after all) or runs it again.
type retryWriter struct {
	w         *workload
	dsn       string
	pause     time.Duration // between transactions of one client
	txSeq     atomic.Int64
	failures  atomic.Int64 // attempts that failed
	committed atomic.Int64 // failed attempts that had committed after all
	quit      atomic.Bool
	wg        sync.WaitGroup
}

// startRetryWriter starts n clients writing into w's ledger, each pausing
// pause between transactions; stop them with stop.
func startRetryWriter(w *workload, n int, pause time.Duration) *retryWriter {
	rw := &retryWriter{w: w, dsn: w.dsn, pause: pause}
	for i := range n {
		rw.wg.Add(1)
		go func() {
			defer rw.wg.Done()
			if err := rw.client(uint64(i)); err != nil {
				w.fail(err)
			}
		}()
	}
	return rw
}

// stop makes the clients finish their current transaction (including its
// retries) and waits for them.
func (rw *retryWriter) stop() { rw.quit.Store(true); rw.wg.Wait() }

// ownedRows are the live rows of one client with their current version.
type ownedRows struct {
	keys    []wlKey
	version map[wlKey]int32
}

// client writes transactions until quit; it returns an error only when the
// server stays unreachable for two minutes or a row's version is not what
// the client's own bookkeeping says.
func (rw *retryWriter) client(seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	own := &ownedRows{version: map[wlKey]int32{}}
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	for !rw.quit.Load() {
		plan, versions := rw.plan(rng, own)
		id := rw.txSeq.Add(1)
		var err error
		if conn, err = rw.commit(conn, id, plan, versions); err != nil {
			return fmt.Errorf("retry writer %d, transaction %d: %w", seed, id, err)
		}
		rw.w.commits.Add(1)
		rw.w.record(plan, versions)
		own.apply(plan, versions)
		time.Sleep(rw.pause)
	}
	return nil
}

// plan picks one to four operations on wlTables: inserts of new rows (45%),
// updates (40%) and deletes (15%) of rows the client owns, and the version
// each leaves (see entry).
func (rw *retryWriter) plan(rng *rand.Rand, own *ownedRows) (txPlan, []int32) {
	cur := map[wlKey]int32{}
	gone := map[wlKey]bool{}
	var plan txPlan
	var versions []int32
	for range 1 + rng.IntN(4) {
		p := rng.IntN(100)
		var k wlKey
		if p >= 45 && len(own.keys) > 0 {
			k = own.keys[rng.IntN(len(own.keys))]
		}
		if p < 45 || len(own.keys) == 0 || gone[k] {
			id := rw.w.nextID.Add(1)
			k = wlKey{table: rng.IntN(len(wlTables)), id: id}
			if wlTables[k.table].composite {
				k.tenant = int32(id % 7)
			}
			cur[k] = 1
			plan.ops = append(plan.ops, wlOp{kind: 'c', key: k})
			versions = append(versions, 1)
			continue
		}
		v, ok := cur[k]
		if !ok {
			v = own.version[k]
		}
		if p < 85 {
			cur[k] = v + 1
			plan.ops = append(plan.ops, wlOp{kind: 'u', key: k})
			versions = append(versions, v+1)
			continue
		}
		gone[k] = true
		plan.ops = append(plan.ops, wlOp{kind: 'd', key: k})
		versions = append(versions, v)
	}
	plan.sp1, plan.sp2 = len(plan.ops), len(plan.ops)
	return plan, versions
}

// apply updates the client's rows after a commit.
func (o *ownedRows) apply(plan txPlan, versions []int32) {
	for i, op := range plan.ops {
		switch op.kind {
		case 'c':
			o.keys = append(o.keys, op.key)
			o.version[op.key] = versions[i]
		case 'u':
			o.version[op.key] = versions[i]
		case 'd':
			delete(o.version, op.key)
			for j, k := range o.keys {
				if k == op.key {
					o.keys[j] = o.keys[len(o.keys)-1]
					o.keys = o.keys[:len(o.keys)-1]
					break
				}
			}
		}
	}
}

// commit runs the transaction until it is known to have committed, and
// returns the connection to use next (conn may be nil: it connects).
func (rw *retryWriter) commit(conn *pgx.Conn, id int64, plan txPlan, versions []int32) (*pgx.Conn, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var err error
		if conn == nil {
			if conn, err = rw.connect(deadline); err != nil {
				return nil, err
			}
		}
		got, attemptErr := rw.attempt(conn, id, plan)
		if attemptErr == nil {
			for i := range versions {
				if got[i] != versions[i] {
					return conn, fmt.Errorf("%c %s returned version %d, the client expected %d", plan.ops[i].kind, plan.ops[i].key, got[i], versions[i])
				}
			}
			return conn, nil
		}
		rw.failures.Add(1)
		_ = conn.Close(context.Background())
		conn = nil
		done, err := rw.lookup(id, deadline)
		if err != nil {
			return nil, err
		}
		if done {
			rw.committed.Add(1)
			return nil, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("still failing after 2 minutes: %w", attemptErr)
		}
	}
}

// attempt runs the transaction once in one round trip and returns the
// version each statement returned.
func (rw *retryWriter) attempt(conn *pgx.Conn, id int64, plan txPlan) ([]int32, error) {
	got := make([]int32, len(plan.ops))
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("INSERT INTO res_txlog (id) VALUES ($1)", id)
	for i, op := range plan.ops {
		b.Queue(opSQL(op), opArgs(op)...).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&got[i])
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // got[i] stays 0: reported as a version mismatch
			}
			return err
		})
	}
	b.Queue("COMMIT")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return got, conn.SendBatch(ctx, b).Close()
}

// lookup reports whether transaction id committed, reconnecting as needed.
func (rw *retryWriter) lookup(id int64, deadline time.Time) (bool, error) {
	for {
		conn, err := rw.connect(deadline)
		if err != nil {
			return false, err
		}
		var done bool
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM res_txlog WHERE id = $1)", id).Scan(&done)
		cancel()
		_ = conn.Close(context.Background())
		if err == nil {
			return done, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("looking up transaction %d: %w", id, err)
		}
	}
}

// connect connects (synchronous_commit on: a commit that returned is on
// disk and survives an immediate shutdown), retrying every 200 ms until
// deadline.
func (rw *retryWriter) connect(deadline time.Time) (*pgx.Conn, error) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, rw.dsn)
		cancel()
		if err == nil {
			return conn, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("connect: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
