package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// wlTable is a table the workload writes. Every table has a version column
// that an UPDATE increments, and a note column derived from key and version,
// so each event says which committed change it is.
type wlTable struct {
	name      string // in schema public
	composite bool   // key (tenant int, id bigint) instead of (id bigint)
	full      bool   // REPLICA IDENTITY FULL
}

var wlTables = []wlTable{
	{name: "accounts"},
	{name: "orders", composite: true},
	{name: "items", full: true},
}

// wlDDL creates the workload tables, the uncaptured table noise and the
// marker table of catchUp.
const wlDDL = `
CREATE TABLE accounts (id bigint PRIMARY KEY, version int NOT NULL, note text NOT NULL);
CREATE TABLE orders (tenant int NOT NULL, id bigint NOT NULL, version int NOT NULL,
	note text NOT NULL, PRIMARY KEY (tenant, id));
CREATE TABLE items (id bigint PRIMARY KEY, version int NOT NULL, note text NOT NULL,
	qty numeric(12,2) NOT NULL DEFAULT 1.5);
ALTER TABLE items REPLICA IDENTITY FULL;
CREATE TABLE noise (id bigserial PRIMARY KEY, v int);
` + markerDDL

// wlCaptured is the capture set of a workload relay (tables: in the config).
var wlCaptured = []string{"public.accounts", "public.orders", "public.items", markerTable}

// wlKey identifies one row of a workload table.
type wlKey struct {
	table  int // index in wlTables
	tenant int32
	id     int64
}

// String is the canonical key of the row's Kafka records (see keyString).
func (k wlKey) String() string {
	if wlTables[k.table].composite {
		return fmt.Sprintf("id=%d,tenant=%d", k.id, k.tenant)
	}
	return fmt.Sprintf("id=%d", k.id)
}

// note is the note column of the row at version v.
func (k wlKey) note(v int32) string {
	if wlTables[k.table].composite {
		return fmt.Sprintf("%d/%d-v%d", k.tenant, k.id, v)
	}
	return fmt.Sprintf("%d-v%d", k.id, v)
}

func (k wlKey) args() []any {
	if wlTables[k.table].composite {
		return []any{k.tenant, k.id}
	}
	return []any{k.id}
}

// entry is one committed change of a row: op 'c', 'u' or 'd' and the version
// the row had after it ('d': the version it had when deleted).
type entry struct {
	op      byte
	version int32
}

// workload runs client goroutines that insert, update and delete rows of
// wlTables in single-statement and multi-statement transactions (some rolled
// back, some with a rolled-back savepoint) and records in a ledger every
// change that committed.
type workload struct {
	dsn     string
	nextID  atomic.Int64
	pools   []*keyPool
	ops     atomic.Int64 // committed row changes
	commits atomic.Int64 // committed transactions
	aborts  atomic.Int64 // rolled-back transactions

	mu     sync.Mutex
	ledger map[wlKey][]entry
	errs   []error
}

func newWorkload(dsn string) *workload {
	w := &workload{dsn: dsn, ledger: map[wlKey][]entry{}}
	for range wlTables {
		w.pools = append(w.pools, newKeyPool())
	}
	return w
}

// clients are a workload's running client goroutines.
type clients struct {
	quit atomic.Bool
	wg   sync.WaitGroup
}

// stop tells the clients to stop after their current transaction and waits.
func (c *clients) stop() { c.quit.Store(true); c.wg.Wait() }

// wait waits until the clients stop by themselves (target reached or error).
func (c *clients) wait() { c.wg.Wait() }

// run starts n clients. They stop by themselves once target changes have
// committed (0 = no target) or on an error (see err).
func (w *workload) run(n int, target int64) *clients {
	c := &clients{}
	for i := range n {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := w.client(uint64(i), target, &c.quit); err != nil {
				w.fail(err)
			}
		}()
	}
	return c
}

func (w *workload) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

// err returns the first client error and how many there were.
func (w *workload) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d workload errors, first: %w", len(w.errs), w.errs[0])
}

// client runs transactions until quit or the target. It never cancels a
// statement, so that every transaction's outcome is known.
func (w *workload) client(seed uint64, target int64, quit *atomic.Bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cfg, err := pgx.ParseConfig(w.dsn)
	if err != nil {
		cancel()
		return err
	}
	cfg.RuntimeParams["synchronous_commit"] = "off" // decoding sees only flushed WAL anyway
	conn, err := pgx.ConnectConfig(ctx, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("workload client %d: connect: %w", seed, err)
	}
	defer conn.Close(context.Background())
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	for !quit.Load() && (target == 0 || w.ops.Load() < target) {
		if err := w.runTx(conn, w.genTx(rng)); err != nil {
			return fmt.Errorf("workload client %d: %w", seed, err)
		}
	}
	return nil
}

// txPlan is one transaction: ops[:sp1] and ops[sp2:] count, ops[sp1:sp2] run
// inside a savepoint that is rolled back; rollback aborts everything; single
// runs ops[0] alone in autocommit mode.
type txPlan struct {
	ops      []wlOp
	sp1, sp2 int
	single   bool
	rollback bool
	noise    bool // also insert into the uncaptured table noise
}

type wlOp struct {
	kind byte // 'c', 'u', 'd'
	key  wlKey
}

// genTx plans a transaction: 50% single statements, 35% multi-statement
// commits (a third of them with a rolled-back savepoint), 15% rollbacks.
// Updates and deletes of existing rows come sorted by key, so concurrent
// transactions lock rows in one global order and never deadlock.
func (w *workload) genTx(rng *rand.Rand) txPlan {
	p := rng.IntN(100)
	if p < 50 {
		return txPlan{ops: []wlOp{w.genOp(rng, nil)}, single: true}
	}
	var fresh, existing []wlOp
	for range 2 + rng.IntN(7) {
		op := w.genOp(rng, &fresh)
		if op.kind == 'c' {
			fresh = append(fresh, op)
		} else {
			existing = append(existing, op)
		}
	}
	sort.Slice(existing, func(i, j int) bool { return keyLess(existing[i].key, existing[j].key) })
	plan := txPlan{ops: append(fresh, existing...), rollback: p >= 85, noise: rng.IntN(3) == 0}
	plan.sp1, plan.sp2 = len(plan.ops), len(plan.ops)
	if p < 62 && len(plan.ops) >= 3 {
		plan.sp1 = 1 + rng.IntN(len(plan.ops)-2)
		plan.sp2 = plan.sp1 + 1 + rng.IntN(len(plan.ops)-plan.sp1-1)
	}
	return plan
}

// genOp picks an insert (35%), update (50%) or delete (15%); updates go to a
// live row of the table or, one time in five inside a transaction, to a row
// this transaction inserted. Without live rows it inserts.
func (w *workload) genOp(rng *rand.Rand, fresh *[]wlOp) wlOp {
	tb := rng.IntN(len(wlTables))
	p := rng.IntN(100)
	if p >= 35 && p < 85 && fresh != nil && len(*fresh) > 0 && rng.IntN(5) == 0 {
		return wlOp{kind: 'u', key: (*fresh)[rng.IntN(len(*fresh))].key}
	}
	if p >= 35 {
		if k, ok := w.pools[tb].pick(rng); ok {
			kind := byte('u')
			if p >= 85 {
				kind = 'd'
			}
			return wlOp{kind: kind, key: k}
		}
	}
	id := w.nextID.Add(1)
	k := wlKey{table: tb, id: id}
	if wlTables[tb].composite {
		k.tenant = int32(id % 7)
	}
	return wlOp{kind: 'c', key: k}
}

func keyLess(a, b wlKey) bool {
	if a.table != b.table {
		return a.table < b.table
	}
	if a.tenant != b.tenant {
		return a.tenant < b.tenant
	}
	return a.id < b.id
}

// runTx executes a plan in one round trip and records what committed.
func (w *workload) runTx(conn *pgx.Conn, plan txPlan) error {
	versions := make([]int32, len(plan.ops)) // 0: the statement touched no row
	b := &pgx.Batch{}
	if !plan.single {
		b.Queue("BEGIN")
		if plan.noise {
			b.Queue("INSERT INTO noise (v) VALUES (1)")
		}
	}
	for i, op := range plan.ops {
		if i == plan.sp1 && plan.sp1 < plan.sp2 {
			b.Queue("SAVEPOINT s1")
		}
		b.Queue(opSQL(op), opArgs(op)...).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&versions[i])
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		})
		if i == plan.sp2-1 && plan.sp1 < plan.sp2 {
			b.Queue("ROLLBACK TO SAVEPOINT s1")
		}
	}
	switch {
	case plan.single:
	case plan.rollback:
		b.Queue("ROLLBACK")
	default:
		b.Queue("COMMIT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("transaction %+v: %w", plan, err)
	}
	if plan.rollback {
		w.aborts.Add(1)
		return nil
	}
	w.commits.Add(1)
	w.record(plan, versions)
	return nil
}

// record adds a committed transaction's changes to the ledger and the pools.
func (w *workload) record(plan txPlan, versions []int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, op := range plan.ops {
		if versions[i] == 0 || (i >= plan.sp1 && i < plan.sp2) {
			continue
		}
		w.ledger[op.key] = append(w.ledger[op.key], entry{op: op.kind, version: versions[i]})
		w.ops.Add(1)
		switch op.kind {
		case 'c':
			w.pools[op.key.table].add(op.key)
		case 'd':
			w.pools[op.key.table].remove(op.key)
		}
	}
}

// opSQL returns the statement of an op; each returns the row's version.
func opSQL(op wlOp) string {
	t := wlTables[op.key.table]
	where, note := "id = $1", "id || '-v' || (version + 1)"
	if t.composite {
		where, note = "tenant = $1 AND id = $2", "tenant || '/' || id || '-v' || (version + 1)"
	}
	switch op.kind {
	case 'c':
		if t.composite {
			return "INSERT INTO orders (tenant, id, version, note) VALUES ($1, $2, 1, $3) RETURNING version"
		}
		return "INSERT INTO " + t.name + " (id, version, note) VALUES ($1, 1, $2) RETURNING version"
	case 'u':
		return "UPDATE " + t.name + " SET version = version + 1, note = " + note + " WHERE " + where + " RETURNING version"
	default:
		return "DELETE FROM " + t.name + " WHERE " + where + " RETURNING version"
	}
}

func opArgs(op wlOp) []any {
	if op.kind == 'c' {
		return append(op.key.args(), op.key.note(1))
	}
	return op.key.args()
}
