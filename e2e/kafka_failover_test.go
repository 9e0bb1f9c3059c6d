package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/walrelay/walrelay/internal/testenv"
)

// envKafkaCluster names .ci/kafka-cluster.sh (the test starts a 3-node
// cluster with it, in envKafkaClusterDir or a temporary directory, and stops
// it at the end) or the directory of a running cluster the script started
// (DIR/brokers, DIR/ctl). .ci/run sets both.
const (
	envKafkaCluster    = "WALRELAY_TEST_KAFKA_CLUSTER"
	envKafkaClusterDir = "WALRELAY_TEST_KAFKA_CLUSTER_DIR"
)

// kafkaCluster is a three-node Kafka cluster whose nodes the test may kill.
type kafkaCluster struct {
	brokers []string
	ctl     string // DIR/ctl: kill N, start N, stop
	own     bool   // started by the test, stopped by its cleanup
	adm     *kadm.Client
	down    map[int32]bool
}

// newKafkaCluster returns the cluster envKafkaCluster names, starting it
// when it names the script; t's cleanup stops a cluster it started and
// restarts nodes the test left killed in one it did not.
func newKafkaCluster(t *testing.T) *kafkaCluster {
	t.Helper()
	env := os.Getenv(envKafkaCluster)
	if env == "" {
		t.Skipf("%s is unset: set it to .ci/kafka-cluster.sh (bash .ci/run does) to run the leader-failover test on a real 3-node Kafka cluster", envKafkaCluster)
	}
	c := &kafkaCluster{down: map[int32]bool{}}
	dir := env
	if st, err := os.Stat(env); err != nil {
		t.Fatalf("%s=%s: %v", envKafkaCluster, env, err)
	} else if !st.IsDir() {
		dir = os.Getenv(envKafkaClusterDir)
		if dir == "" {
			dir = filepath.Join(t.TempDir(), "cluster")
		}
		start := time.Now()
		c.own = true
		t.Cleanup(func() { runScript(t, 2*time.Minute, "bash", env, "stop", dir) })
		runScript(t, 3*time.Minute, "bash", env, "start", dir)
		t.Logf("3-node Kafka cluster started in %s", time.Since(start).Round(time.Millisecond))
	}
	b, err := os.ReadFile(filepath.Join(dir, "brokers"))
	if err != nil {
		t.Fatalf("%s: %v (is it a kafka-cluster.sh directory?)", envKafkaCluster, err)
	}
	c.brokers = strings.Split(strings.TrimSpace(string(b)), ",")
	c.ctl = filepath.Join(dir, "ctl")
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	c.adm = kadm.NewClient(cl)
	t.Cleanup(func() {
		for n := range c.down {
			if !c.own {
				c.run(t, "start", n) // leave a cluster we did not start as we found it
			}
		}
		cl.Close()
	})
	return c
}

// runScript runs a command to completion within timeout or fails t.
func runScript(t *testing.T, timeout time.Duration, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func (c *kafkaCluster) run(t *testing.T, verb string, node int32) {
	t.Helper()
	runScript(t, 3*time.Minute, c.ctl, verb, strconv.Itoa(int(node)))
	if verb == "kill" {
		c.down[node] = true
	} else {
		delete(c.down, node)
	}
}

// leaders returns how many partitions of topics each broker leads, and how
// many partitions have fewer than three in-sync replicas.
func (c *kafkaCluster) leaders(t *testing.T, topics []string) (lead map[int32]int, shortISR int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	md, err := c.adm.Metadata(ctx, topics...)
	if err != nil {
		t.Fatalf("cluster metadata: %v", err)
	}
	lead = map[int32]int{}
	for _, td := range md.Topics {
		for _, p := range td.Partitions {
			lead[p.Leader]++
			if len(p.ISR) < 3 {
				shortISR++
			}
		}
	}
	return lead, shortISR
}

// busiest returns the live broker leading the most partitions of topics.
func (c *kafkaCluster) busiest(t *testing.T, topics []string) (int32, map[int32]int) {
	t.Helper()
	lead, _ := c.leaders(t, topics)
	ids := make([]int32, 0, len(lead))
	for id := range lead {
		if !c.down[id] && id >= 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("no live partition leader: %v", lead)
	}
	sort.Slice(ids, func(i, j int) bool {
		return lead[ids[i]] > lead[ids[j]] || lead[ids[i]] == lead[ids[j]] && ids[i] < ids[j]
	})
	return ids[0], lead
}

// waitFullISR waits until every partition of topics has three in-sync
// replicas again (a restarted broker caught up).
func (c *kafkaCluster) waitFullISR(t *testing.T, topics []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, short := c.leaders(t, topics)
		if short == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d partitions still lack a replica in their ISR %s after the restart", short, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// stallWatch samples the relay's stored checkpoint and records the longest
// time it stood still while the writer kept committing.
type stallWatch struct {
	cfg     *relayConfig
	last    pglogrepl.LSN
	since   time.Time
	longest time.Duration
}

func (s *stallWatch) sample() {
	cp := s.cfg.mustCheckpoint()
	now := time.Now()
	if cp != s.last || s.since.IsZero() {
		s.last, s.since = cp, now
		return
	}
	s.longest = max(s.longest, now.Sub(s.since))
}

// observe samples every 100ms for d and returns the longest stall seen.
func (s *stallWatch) observe(d time.Duration) time.Duration {
	s.longest, s.since = 0, time.Time{}
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		s.sample()
	}
	return s.longest
}

// failoverWatch is how long the test keeps writing after a kill: the
// cluster fences the dead broker after broker.session.timeout.ms (9 s).
// maxFailoverDials bounds the broker connections walrelay may open in that
// time: 4 * kafka.max_in_flight_requests. About 25 are seen; a Transport
// swapped in on every failed retry, each dialling anew, would make hundreds.
const (
	failoverWatch    = 15 * time.Second
	maxFailoverDials = 4 * 32
)

// TestKafkaLeaderFailover: walrelay writes with acks=all to a real 3-node
// cluster (replication factor 3, min.insync.replicas 2) while a client
// commits a steady stream of inserts, updates and deletes to three tables.
// The broker leading the most of the relay's partitions is killed with
// SIGKILL, restarted after a while; once it is back in every ISR, the broker
// then leading the most is killed. Checked: every committed change is in
// Kafka, per key in commit order (duplicates dropped by ce_id); the pipeline
// never halts; the process stays up; the checkpoint reaches a marker written
// at the end; walrelay opens at most maxFailoverDials connections after a
// kill (counted from /proc, a lower bound). The longest checkpoint stall
// after each kill is logged. Default retry settings (kafka.max_attempts 10,
// backoff 100ms to 5s): the retries must outlast the cluster's fencing of
// the dead broker (broker.session.timeout.ms, Kafka's default 9 s).
func TestKafkaLeaderFailover(t *testing.T) {
	t.Parallel()
	kc := newKafkaCluster(t)
	pg := testenv.PG(t)
	dsn := pg.NewDatabase(t)
	conn := connect(t, dsn)
	mustExec(t, conn, wlDDL)
	cfg := newRelayConfig(t, dsn, kc.brokers, wlCaptured...)
	cfg.set("kafka.topic_replication_factor", 3)
	cfg.set("kafka.topic_partitions", 6)
	r := startRelay(t, cfg)
	w := newWorkload(dsn)
	cl := pacedWriter(w, time.Millisecond)
	t.Cleanup(cl.stop)
	col := newCollector(t, kc.brokers, cfg.topics()...)
	publishedMarker(t, cfg, conn, col, time.Minute) // topics exist, records flow
	topics := cfg.topics()
	dials := countDials(r.cmd.Process.Pid, kc.brokers)
	defer dials.close()
	sw := &stallWatch{cfg: cfg}
	t.Logf("warm-up stall %s", sw.observe(2*time.Second))
	warm, _ := dials.total()

	var stalls []string
	for round := 1; round <= 2; round++ {
		victim, lead := kc.busiest(t, topics)
		kc.run(t, "kill", victim)
		t.Logf("round %d: killed broker %d (partition leaders before: %v); %d changes committed so far", round, victim, lead, w.ops.Load())
		before, _ := dials.total()
		stall := sw.observe(failoverWatch)
		lead, _ = kc.leaders(t, topics)
		after, peak := dials.total()
		stalls = append(stalls, fmt.Sprintf("kill %d of broker %d: %s, %d connections", round, victim, stall, after-before))
		if after-before > maxFailoverDials {
			t.Errorf("round %d: walrelay opened %d broker connections in the %s after the kill, want at most %d (a dial storm)", round, after-before, failoverWatch, maxFailoverDials)
		}
		t.Logf("round %d: longest checkpoint stall %s; %d broker connections opened in the %s after the kill (most open at once so far %d); leaders now %v; %d changes committed",
			round, stall, after-before, failoverWatch, peak, lead, w.ops.Load())
		if round == 1 {
			kc.run(t, "start", victim)
			kc.waitFullISR(t, topics, 60*time.Second)
			t.Logf("broker %d back in every ISR", victim)
		}
	}
	cl.stop()
	if err := w.err(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	if r.exited() {
		t.Fatalf("walrelay exited (%v) during the failovers", r.state)
	}
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	st := verifyWorkload(t, cfg, col, w)
	checkWorkloadDB(t, dsn, w)
	t.Logf("workload %d changes in %d transactions; stream %+v", w.ops.Load(), w.commits.Load(), st)
	t.Logf("stalls: %s (%d connections in the warm-up)", strings.Join(stalls, "; "), warm)
	if n := r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
		t.Errorf("pipeline halted %d times during the leader failovers; the sink should ride a leader move out", n)
	}
	t.Logf("kafka retries logged: %d warnings, %d recoveries", r.countLog("kafka: request failed, retrying"), r.countLog("kafka: recovered"))
	if code, took := r.term(); code != 0 {
		t.Errorf("exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// dialCounter samples, every 20ms, the TCP connections process pid has open
// to ports, and counts the distinct ones seen: about the connections the
// process dialled (one that opened and closed between two samples is
// missed, so it is a lower bound).
type dialCounter struct {
	pid   int
	ports map[string]bool // broker ports, upper-case hex as in /proc/net/tcp
	mu    sync.Mutex
	seen  map[string]bool // local port and inode of each connection seen
	peak  int             // most open at once
	stop  chan struct{}
	done  chan struct{}
}

// countDials starts sampling pid's connections to brokers until stopped.
func countDials(pid int, brokers []string) *dialCounter {
	d := &dialCounter{pid: pid, ports: map[string]bool{}, seen: map[string]bool{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, b := range brokers {
		if _, p, err := net.SplitHostPort(b); err == nil {
			n, _ := strconv.Atoi(p)
			d.ports[fmt.Sprintf("%04X", n)] = true
		}
	}
	go func() {
		defer close(d.done)
		for {
			d.sample()
			select {
			case <-d.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return d
}

// sample records the connections open now.
func (d *dialCounter) sample() {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.pid))
	if err != nil {
		return
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", d.pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", d.pid))
	if err != nil {
		return
	}
	open := 0
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 10 || !inodes[f[9]] {
			continue
		}
		if _, rport, ok := strings.Cut(f[2], ":"); ok && d.ports[rport] {
			open++
			d.seen[f[1]+"/"+f[9]] = true
		}
	}
	d.peak = max(d.peak, open)
}

// total returns the connections seen so far and the most open at once.
func (d *dialCounter) total() (seen, peak int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen), d.peak
}

func (d *dialCounter) close() { close(d.stop); <-d.done }
