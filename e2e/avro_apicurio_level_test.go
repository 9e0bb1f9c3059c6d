package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/schema/registry"
)

// TestAvroApicurioSubjectLevel: Apicurio's ccompat API answers
// GET /config/{subject} with its global level (NONE) for a subject without a
// level of its own, so walrelay reads the subject's artifact rule instead: an
// incompatible change (bigint -> text) after the subject's first version is
// refused under the configured default (BACKWARD), and registry.RelaxCommand,
// run as the operator would, lets it through with nothing lost.
func TestAvroApicurioSubjectLevel(t *testing.T) {
	t.Parallel()
	url := externalRegistry(t)
	if !strings.Contains(url, "/apis/ccompat/") {
		t.Skipf("WALRELAY_TEST_REGISTRY_URL %s is not Apicurio's ccompat API", url)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("curl is needed to run the relax command: %v", err)
	}
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE lvl (id int PRIMARY KEY, v bigint);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.lvl", markerTable)
	cfg.set("format", "avro")
	cfg.set("schema_registry.url", url)
	topic := cfg.topic("public.lvl")
	subject := topic + "-value"
	native := strings.Replace(strings.TrimRight(url, "/"), "/apis/ccompat/v7", "/apis/registry/v2/groups/default/artifacts", 1)
	native = strings.Replace(native, "/apis/ccompat/v6", "/apis/registry/v2/groups/default/artifacts", 1)
	t.Cleanup(func() {
		for _, s := range []string{topic + "-key", subject, cfg.topic(markerTable) + "-key", cfg.topic(markerTable) + "-value"} {
			if status, err := httpJSON(http.MethodDelete, native+"/"+s, nil, nil); err != nil || status >= 300 && status != 404 {
				t.Logf("delete artifact %s: %d %v", s, status, err)
			}
		}
	})
	col := newAvroCollector(t, brokers, url, cfg.topics()...)
	relay := startRelay(t, cfg)
	src := relay.waitLog("reading each subject's own compatibility level; subjects without one use the configured level", time.Minute)
	if s, _ := src["source"].(string); !strings.Contains(s, "Apicurio artifact rule") {
		t.Errorf("level source logged as %q", s)
	}

	mustExec(t, conn, "INSERT INTO lvl VALUES (1, 12)")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	var level map[string]string
	if status, err := httpJSON(http.MethodGet, url+"/config/"+subject, nil, &level); err != nil || status != 200 {
		t.Fatalf("GET /config/%s: %d %v", subject, status, err)
	}
	t.Logf("Apicurio's GET /config/%s: %v", subject, level)

	mustExec(t, conn, "ALTER TABLE lvl ALTER COLUMN v TYPE text; INSERT INTO lvl VALUES (2, 'two')")
	halt := relay.waitLog("pipeline halted; restarting from the checkpoint", time.Minute)
	msg, _ := halt["error"].(string)
	for _, w := range []string{`column "v"`, "BACKWARD", subject} {
		if !strings.Contains(msg, w) {
			t.Errorf("halt message lacks %q:\n%s", w, msg)
		}
	}
	col.poll(2 * time.Second)
	if n := len(col.byTopic(topic)); n != 1 {
		t.Fatalf("%d records on %s after the refused change, want 1", n, topic)
	}

	cmd := registry.RelaxCommand(url, subject)
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, out)
	}
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	recs := col.byTopic(topic)
	if len(recs) != 2 {
		t.Fatalf("%d records on %s after relaxing the subject, want 2", len(recs), topic)
	}
	if a, _ := recs[1].ValueMap["after"].(map[string]any); a["v"] != "two" {
		t.Errorf("record 2 after = %v, want v=two", recs[1].ValueMap["after"])
	}
}
