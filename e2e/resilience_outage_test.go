package e2e

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/devenv"
	"github.com/walrelay/walrelay/internal/testenv"
)

// Environment variables naming a real Kafka broker dedicated to the outage
// test (.ci/run starts one): the shared broker of WALRELAY_TEST_KAFKA_BROKERS
// must not be stopped, since `go test ./...` runs other packages' tests
// against it at the same time.
const (
	envOutageBrokers = "WALRELAY_TEST_KAFKA_OUTAGE_BROKERS"
	envOutageCtl     = "WALRELAY_TEST_KAFKA_OUTAGE_CTL" // takes stop or start
)

// outageBroker is a Kafka broker the test may stop and start: the dedicated
// real broker when envOutageBrokers is set, else an in-process kfake broker
// (devenv.Kafka: Stop closes its listener, so clients get connection refused).
type outageBroker struct {
	brokers []string
	ctl     string        // control script of the real broker
	fake    *devenv.Kafka // the kfake broker otherwise
	mu      sync.Mutex
	down    bool
}

// newOutageBroker returns the broker for t; t's cleanup starts it again if
// the test left it stopped.
func newOutageBroker(t *testing.T) *outageBroker {
	t.Helper()
	b := &outageBroker{}
	if env := os.Getenv(envOutageBrokers); env != "" {
		b.brokers, b.ctl = strings.Split(env, ","), os.Getenv(envOutageCtl)
		if b.ctl == "" {
			t.Fatalf("%s is set but %s (its control script) is not", envOutageBrokers, envOutageCtl)
		}
		t.Logf("outage broker: the dedicated real broker %s", env)
	} else {
		b.fake = testenv.FakeKafka(t)
		b.brokers = b.fake.Brokers()
		t.Logf("outage broker: in-process kfake %v (%s is unset)", b.brokers, envOutageBrokers)
	}
	t.Cleanup(func() {
		b.mu.Lock()
		down := b.down
		b.mu.Unlock()
		if down {
			b.start(t)
		}
	})
	return b
}

func (b *outageBroker) stop(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	b.down = true
	b.mu.Unlock()
	if b.fake != nil {
		b.fake.Stop()
		return
	}
	b.runCtl(t, "stop")
}

func (b *outageBroker) start(t *testing.T) {
	t.Helper()
	if b.fake != nil {
		if err := b.fake.Start(); err != nil {
			t.Fatalf("start the kfake broker again: %v", err)
		}
	} else {
		b.runCtl(t, "start") // kafka.sh start waits until the broker answers metadata requests
	}
	b.mu.Lock()
	b.down = false
	b.mu.Unlock()
}

func (b *outageBroker) runCtl(t *testing.T, verb string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, b.ctl, verb).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", b.ctl, verb, err, out)
	}
}

// pacedWriter runs one workload client that pauses between transactions,
// so that a 30 s outage builds a backlog the catch-up can publish quickly.
func pacedWriter(w *workload, pause time.Duration) *clients {
	c := &clients{}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, err := pgx.Connect(ctx, w.dsn)
		cancel()
		if err != nil {
			w.fail(err)
			return
		}
		defer conn.Close(context.Background())
		rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
		for !c.quit.Load() {
			if err := w.runTx(conn, w.genTx(rng)); err != nil {
				w.fail(err)
				return
			}
			time.Sleep(pause)
		}
	}()
	return c
}

// outageRelay is one relay of the outage test with its database and writer.
type outageRelay struct {
	name  string
	dsn   string
	conn  *pgx.Conn
	cfg   *relayConfig
	r     *relay
	w     *workload
	cl    *clients
	cp0   pglogrepl.LSN // the stored checkpoint early in the outage
	moved []string      // checkpoints seen later in the outage that differ from cp0
}

// newOutageRelay creates a database on pg with the workload tables and
// starts a relay on it (limits.max_inflight_events 2000, plus settings) and
// a paced writer.
func newOutageRelay(t *testing.T, pg *testenv.Postgres, brokers []string, name string, settings map[string]any) *outageRelay {
	t.Helper()
	o := &outageRelay{name: name, dsn: pg.NewDatabase(t)}
	o.conn = connect(t, o.dsn)
	mustExec(t, o.conn, wlDDL)
	o.cfg = newRelayConfig(t, o.dsn, brokers, wlCaptured...)
	o.cfg.set("limits.max_inflight_events", 2000)
	for k, v := range settings {
		o.cfg.set(k, v)
	}
	o.r = startRelay(t, o.cfg)
	o.w = newWorkload(o.dsn)
	o.cl = pacedWriter(o.w, 2*time.Millisecond)
	t.Cleanup(o.cl.stop) // on an early failure
	return o
}

// sample records the stored checkpoint if it differs from cp0.
func (o *outageRelay) sample(t *testing.T, since time.Time) {
	t.Helper()
	if cp := o.cfg.mustCheckpoint(); cp != o.cp0 && len(o.moved) < 10 {
		o.moved = append(o.moved, time.Since(since).Round(time.Millisecond).String()+": "+cp.String())
	}
}

// verify catches up and checks the relay's topics against its ledger.
func (o *outageRelay) verify(t *testing.T, brokers []string) {
	t.Helper()
	col := newCollector(t, brokers, o.cfg.topics()...)
	catchUp(t, o.cfg, o.conn, col, col, 3*time.Minute)
	st := verifyWorkload(t, o.cfg, col, o.w)
	checkWorkloadDB(t, o.dsn, o.w)
	t.Logf("%s relay: workload %d changes; stream %+v", o.name, o.w.ops.Load(), st)
	if cp := o.cfg.mustCheckpoint(); cp <= o.cp0 {
		t.Errorf("%s relay: checkpoint %s after the catch-up, not beyond %s", o.name, cp, o.cp0)
	}
	for _, line := range strings.Split(o.r.output(), "\n") {
		if strings.Contains(line, `"message":"pipeline halted; restarting from the checkpoint"`) {
			t.Logf("%s relay: %.300s", o.name, line)
		}
	}
}

// TestResilienceBrokerOutage: while clients write, the Kafka broker is
// stopped for 30 s and started again. Two relays on two databases of one
// private PostgreSQL with wal_sender_timeout=10s, both with
// limits.max_inflight_events 2000 so that they hit the cap early in the
// outage: "default" gives up after its Kafka retries and restarts its
// pipeline with backoff until the broker is back; "patient"
// (kafka.max_attempts 1000, backoff_max 1s) keeps retrying through the
// outage with its replication connection open, so it must keep answering
// the walsender while blocked at the cap. Checked: the server never logs a
// replication timeout; neither stored checkpoint moves while the broker is
// down; both processes stay up; afterwards every committed change is in
// Kafka in commit order per key (duplicates dropped by ce_id).
func TestResilienceBrokerOutage(t *testing.T) {
	t.Parallel()
	pg := testenv.PrivatePG(t)
	dev := pg.Devenv()
	if err := dev.SetConfig("wal_sender_timeout", "10s"); err != nil {
		t.Fatal(err)
	}
	kb := newOutageBroker(t)
	relays := []*outageRelay{
		newOutageRelay(t, pg, kb.brokers, "default", nil),
		newOutageRelay(t, pg, kb.brokers, "patient", map[string]any{"kafka.max_attempts": 1000, "kafka.backoff_max": "1s"}),
	}
	var timeout string
	if err := relays[0].conn.QueryRow(context.Background(), "SHOW wal_sender_timeout").Scan(&timeout); err != nil || timeout != "10s" {
		t.Fatalf("wal_sender_timeout = %q (%v), want 10s", timeout, err)
	}
	time.Sleep(4 * time.Second)

	kb.stop(t)
	down := time.Now()
	t.Logf("broker stopped at %s", down.UTC().Format("15:04:05.000"))
	time.Sleep(2 * time.Second) // what was acknowledged just before the stop gets persisted
	for _, o := range relays {
		o.cp0 = o.cfg.mustCheckpoint()
	}
	for time.Since(down) < 30*time.Second {
		time.Sleep(250 * time.Millisecond)
		for _, o := range relays {
			o.sample(t, down)
		}
	}
	kb.start(t)
	t.Logf("broker started again after %s", time.Since(down).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	for _, o := range relays {
		o.cl.stop()
		if err := o.w.err(); err != nil {
			t.Fatalf("%s relay's writer: %v", o.name, err)
		}
		if len(o.moved) > 0 {
			t.Errorf("%s relay: the stored checkpoint moved from %s while the broker was down: %v", o.name, o.cp0, o.moved)
		}
		if o.r.exited() {
			t.Fatalf("%s relay exited (%v) during the outage", o.name, o.r.state)
		}
	}
	for _, o := range relays {
		o.verify(t, kb.brokers)
	}
	if n := relays[1].r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
		t.Errorf("patient relay: pipeline halted %d times; with kafka.max_attempts 1000 it should have ridden out the outage connected", n)
	}
	checkNoReplicationTimeout(t, dev.LogPath())
	for _, o := range relays {
		if code, took := o.r.term(); code != 0 {
			t.Errorf("%s relay: exit code %d %s after SIGTERM, want 0", o.name, code, took)
		}
	}
}

// checkNoReplicationTimeout fails the test if the server log says that a
// walsender was terminated for a replication timeout.
func checkNoReplicationTimeout(t *testing.T, logPath string) {
	t.Helper()
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("read the server log: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "terminating walsender process due to replication timeout") {
			t.Errorf("server log %s: %s", logPath, line)
		}
	}
}
