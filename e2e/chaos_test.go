package e2e

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// Environment variables of TestChaos: how long faults go on in each format
// (a Go duration, default chaosDefault) and the seed of their order and
// timing (default: the clock; each run logs its seed so that a failing run
// can be replayed).
const (
	envChaosDuration = "WALRELAY_CHAOS_DURATION"
	envChaosSeed     = "WALRELAY_CHAOS_SEED"
	chaosDefault     = 25 * time.Second
)

// fault is one kind of failure TestChaos injects.
type fault string

const (
	faultKill       fault = "SIGKILL walrelay"
	faultTerm       fault = "SIGTERM walrelay"
	faultPGFast     fault = "restart PostgreSQL (fast)"
	faultPGCrash    fault = "restart PostgreSQL (immediate: a crash)"
	faultBroker     fault = "stop the Kafka broker 2-8 s"
	faultKillBroker fault = "stop the Kafka broker, SIGKILL walrelay, start both"
)

var faults = []fault{faultKill, faultTerm, faultPGFast, faultPGCrash, faultBroker, faultKillBroker}

// TestChaos: while two clients write (retrying through outages and keeping
// only what committed), faults hit the pipeline one after another for
// WALRELAY_CHAOS_DURATION: walrelay SIGKILLed or SIGTERMed and started
// again, PostgreSQL restarted fast or crashed, the Kafka broker stopped for
// a few seconds, and walrelay killed while the broker is down. Every kind
// comes once in a shuffled first round, then kinds are drawn at random;
// 0.5-3 s of normal streaming separate them. It runs once per format, JSON
// and Avro (the embedded registry then goes down and up with walrelay).
// Afterwards every committed change is in Kafka in commit order per key
// (duplicates dropped by ce_id), the ledger matches the tables, and
// walrelay stops with exit code 0.
//
// Not parallel: it stops the outage broker, which TestResilienceBrokerOutage
// also uses (Go runs non-parallel tests alone).
func TestChaos(t *testing.T) {
	duration, seed := chaosSettings(t)
	for _, format := range []string{"json", "avro"} {
		t.Run(format, func(t *testing.T) { runChaos(t, format, duration, seed) })
	}
}

// runChaos is one TestChaos run: faults for duration, drawn with seed, on
// a relay writing format (both formats get the same seed, so the same faults).
func runChaos(t *testing.T, format string, duration time.Duration, seed uint64) {
	t.Logf("chaos: %s of faults, seed %d (%s=%d replays this order)", duration, seed, envChaosSeed, seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	pg := testenv.PrivatePG(t)
	broker := newOutageBroker(t)
	dsn := pg.NewDatabase(t)
	testenv.ExecDSN(t, dsn, wlDDL+txlogDDL)
	cfg := newRelayConfig(t, dsn, broker.brokers, wlCaptured...)
	registryURL := ""
	if format == "avro" {
		registryURL = avroConfig(t, cfg)
	}
	r := startRelay(t, cfg)
	w := newWorkload(dsn)
	rw := startRetryWriter(w, 2, 2*time.Millisecond)
	t.Cleanup(rw.stop) // on an early failure

	order := append([]fault(nil), faults...)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	end := time.Now().Add(duration)
	for i := 0; i < len(faults) || time.Now().Before(end); i++ {
		f := faults[rng.IntN(len(faults))]
		if i < len(order) {
			f = order[i]
		}
		time.Sleep(500*time.Millisecond + time.Duration(rng.Int64N(int64(2500*time.Millisecond))))
		if r.exited() {
			t.Fatalf("walrelay exited by itself (%v) before fault %d", r.state, i+1)
		}
		ops, start := w.ops.Load(), time.Now()
		r = inject(t, rng, f, r, cfg, pg, broker)
		t.Logf("fault %d: %s; recovered (streaming, broker up) %s after it began; %d changes committed before it",
			i+1, f, time.Since(start).Round(time.Millisecond), ops)
	}
	time.Sleep(time.Second)
	rw.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("writers: %d changes in %d transactions; %d failed attempts, %d of which had committed",
		w.ops.Load(), w.commits.Load(), rw.failures.Load(), rw.committed.Load())

	conn := connect(t, dsn)
	col := newCollector(t, broker.brokers, cfg.topics()...)
	if format == "avro" {
		asJSON(t, col, registryURL)
	}
	// Reading back takes time in proportion to what was written: under -race
	// a 4-minute Avro soak read its 450,000 records back at about 3,700 a
	// second, and an 8-minute one did not finish in a fixed 3 minutes.
	catchUp(t, cfg, conn, col, col, 3*time.Minute+2*duration)
	st := verifyWorkload(t, cfg, col, w)
	checkWorkloadDB(t, dsn, w)
	t.Logf("stream: %+v", st)
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// inject applies fault f and returns the relay that streams afterwards
// (r itself, or the one started in its place).
func inject(t *testing.T, rng *rand.Rand, f fault, r *relay, cfg *relayConfig, pg *testenv.Postgres, broker *outageBroker) *relay {
	t.Helper()
	switch f {
	case faultKill:
		r.kill()
		return startRelay(t, cfg)
	case faultTerm:
		if code, took := r.term(); code != 0 {
			t.Errorf("walrelay exit code %d %s after SIGTERM under load, want 0", code, took)
		}
		return startRelay(t, cfg)
	case faultPGFast, faultPGCrash:
		mode := "fast"
		if f == faultPGCrash {
			mode = "immediate"
		}
		streams := r.countLog("streaming")
		if err := pg.Devenv().Restart(mode); err != nil {
			t.Fatalf("restart PostgreSQL (%s): %v", mode, err)
		}
		waitStreams(t, r, streams+1, 90*time.Second)
		return r
	case faultBroker:
		broker.stop(t)
		time.Sleep(2*time.Second + time.Duration(rng.Int64N(int64(6*time.Second))))
		broker.start(t)
		return r
	case faultKillBroker:
		broker.stop(t)
		time.Sleep(time.Second)
		r.kill()
		broker.start(t)
		return startRelay(t, cfg)
	}
	t.Fatalf("unknown fault %q", f)
	return nil
}

// chaosSettings reads TestChaos's duration and seed from the environment.
func chaosSettings(t *testing.T) (time.Duration, uint64) {
	t.Helper()
	duration, seed := chaosDefault, uint64(time.Now().UnixNano())
	if v := os.Getenv(envChaosDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			t.Fatalf("%s=%q: want a Go duration such as 10m", envChaosDuration, v)
		}
		duration = d
	}
	if v := os.Getenv(envChaosSeed); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want an unsigned integer", envChaosSeed, v)
		}
		seed = s
	}
	return duration, seed
}
