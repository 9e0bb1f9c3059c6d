package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/walrelay/walrelay/internal/tlsfiles"
)

// securedKafka is the SASL_SSL listener of the test broker (.ci/kafka.sh).
type securedKafka struct {
	brokers        []string
	caFile         string
	user, password string
}

// saslListener reads the listener from WALRELAY_TEST_KAFKA_SASL_BROKERS,
// WALRELAY_TEST_KAFKA_TLS_DIR and WALRELAY_TEST_KAFKA_SASL_USER/_PASSWORD,
// skipping the test (naming the variable) when one is unset.
func saslListener(t *testing.T) securedKafka {
	t.Helper()
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			t.Skipf("%s is not set: no SASL_SSL Kafka listener to test against", name)
		}
		return v
	}
	return securedKafka{
		brokers:  strings.Split(get("WALRELAY_TEST_KAFKA_SASL_BROKERS"), ","),
		caFile:   filepath.Join(get("WALRELAY_TEST_KAFKA_TLS_DIR"), "ca.pem"),
		user:     get("WALRELAY_TEST_KAFKA_SASL_USER"),
		password: get("WALRELAY_TEST_KAFKA_SASL_PASSWORD"),
	}
}

// useSCRAM points cfg at the listener with scram-sha-512; the password is
// not in the config file (spawnRelayEnv passes it in the environment).
func (k securedKafka) useSCRAM(cfg *relayConfig) {
	cfg.set("kafka.brokers", k.brokers)
	cfg.set("kafka.tls", map[string]any{"enabled": true, "ca_file": k.caFile})
	cfg.set("kafka.sasl", map[string]any{"mechanism": "scram-sha-512", "username": k.user})
}

// collector returns a collector of topics that reads over SASL_SSL, and
// deletes the topics at the end of the test.
func (k securedKafka) collector(t *testing.T, topics ...string) *collector {
	t.Helper()
	tc, err := tlsfiles.Config(k.caFile, "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollectorWith(t, []kgo.Opt{
		kgo.SeedBrokers(k.brokers...),
		kgo.DialTLSConfig(tc),
		kgo.SASL(scram.Auth{User: k.user, Pass: k.password}.AsSha512Mechanism()),
	}, topics...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, _ = c.adm.DeleteTopics(ctx, topics...)
		c.cl.Close()
	})
	return c
}

const secDDL = `CREATE TABLE public.sec_orders (id int PRIMARY KEY, item text NOT NULL, qty int NOT NULL)`

// TestKafkaSecuritySCRAM: `walrelay run` against a SASL_SSL listener with
// scram-sha-512 and the password only in WALRELAY_KAFKA_SASL_PASSWORD.
// Every insert and update arrives, in commit order per key, with the values
// written; the password appears nowhere in walrelay's output.
func TestKafkaSecuritySCRAM(t *testing.T) {
	t.Parallel()
	k := saslListener(t)
	dsn, brokers, conn := newTestDB(t, secDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.sec_orders")
	k.useSCRAM(cfg)
	col := k.collector(t, cfg.topic("public.sec_orders"))
	r := spawnRelayEnv(t, cfg, []string{"WALRELAY_KAFKA_SASL_PASSWORD=" + k.password})
	r.waitLog("streaming", 60*time.Second)

	const rows = 40
	want := map[string][]string{} // key -> "op item qty" in commit order
	for i := 1; i <= rows; i++ {
		mustExec(t, conn, `INSERT INTO public.sec_orders VALUES ($1, $2, $3)`, i, fmt.Sprintf("item-%d", i), i*10)
		want[fmt.Sprintf("id=%d", i)] = []string{fmt.Sprintf("c item-%d %d", i, i*10)}
	}
	// One transaction updating every fifth row twice.
	mustExec(t, conn, `BEGIN; UPDATE public.sec_orders SET qty = qty + 1 WHERE id % 5 = 0;
		UPDATE public.sec_orders SET item = item || '-x' WHERE id % 5 = 0; COMMIT`)
	for i := 5; i <= rows; i += 5 {
		key := fmt.Sprintf("id=%d", i)
		want[key] = append(want[key], fmt.Sprintf("u item-%d %d", i, i*10+1), fmt.Sprintf("u item-%d-x %d", i, i*10+1))
	}
	total := rows + 2*rows/5
	col.waitFor(90*time.Second, fmt.Sprintf("%d records", total), func() bool { return len(col.recs) >= total })

	got := map[string][]string{}
	for _, rc := range col.recs {
		if rc.Env == nil {
			t.Fatalf("unexpected tombstone %s", rc.ID)
		}
		a := rc.Env.After
		got[rc.Key] = append(got[rc.Key], fmt.Sprintf("%s %v %v", rc.Env.Op, a["item"], a["qty"]))
	}
	if len(col.recs) != total {
		t.Errorf("%d records, want %d", len(col.recs), total)
	}
	for key, w := range want {
		if strings.Join(got[key], "; ") != strings.Join(w, "; ") {
			t.Errorf("key %s: got %q, want %q", key, got[key], w)
		}
	}
	inCommitOrderPerKey(t, col.recs)

	if code, _ := r.term(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	assertNoPassword(t, cfg, k.password)
}

// TestKafkaSecurityWrongPassword: a wrong SASL password stops `walrelay run`
// at start, within seconds, with an error naming kafka.sasl and without
// either password in the output, and before the replication slot exists.
func TestKafkaSecurityWrongPassword(t *testing.T) {
	t.Parallel()
	k := saslListener(t)
	dsn, brokers, conn := newTestDB(t, secDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.sec_orders")
	k.useSCRAM(cfg)
	wrong := "wrong-" + randomSuffix()
	start := time.Now()
	r := spawnRelayEnv(t, cfg, []string{"WALRELAY_KAFKA_SASL_PASSWORD=" + wrong})
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("walrelay still running 60s after start with a wrong password; log tail:\n%s", cfg.logTail(20))
	}
	t.Logf("walrelay exited with %v after %s", r.state, time.Since(start).Round(time.Millisecond))
	if r.state.ExitCode() == 0 {
		t.Errorf("exit code 0 with a wrong password")
	}
	log, err := os.ReadFile(cfg.logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "SASL authentication failed") || !strings.Contains(string(log), "kafka.sasl.password") {
		t.Errorf("output does not say SASL authentication failed and name kafka.sasl.password:\n%s", log)
	}
	assertNoPassword(t, cfg, k.password)
	assertNoPassword(t, cfg, wrong)
	if slotExists(t, conn, cfg.Slot) {
		t.Errorf("slot %s was created although Kafka refused walrelay: it would hold WAL until someone drops it", cfg.Slot)
	}
}

// assertNoPassword fails if password occurs in the relay's output or config file.
func assertNoPassword(t *testing.T, cfg *relayConfig, password string) {
	t.Helper()
	for _, p := range []string{cfg.logPath, cfg.path} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), password) {
			t.Errorf("%s contains the SASL password", p)
		}
	}
}
