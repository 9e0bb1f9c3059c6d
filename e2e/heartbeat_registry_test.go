package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/internal/avrogeneric"
	"github.com/walrelay/walrelay/schema"
	"github.com/walrelay/walrelay/schema/registry"
)

// TestHeartbeatTopicSubjects: with format avro and heartbeat.topic set,
// the heartbeat records' schemas are registered under the heartbeat
// topic's own TopicNameStrategy subjects <topic>-key and <topic>-value
// (not only under <prefix>.message-*), each holding the schema ID the
// records carry, so a consumer with use.latest.version and broker-side
// schema ID validation accept them. Against Apicurio's ccompat API
// (WALRELAY_TEST_REGISTRY_URL) and the embedded registry.
func TestHeartbeatTopicSubjects(t *testing.T) {
	t.Parallel()
	t.Run("apicurio", func(t *testing.T) {
		t.Parallel()
		url := externalRegistry(t)
		testHeartbeatSubjects(t, func(cfg *relayConfig) string {
			cfg.set("format", "avro")
			cfg.set("schema_registry.url", url)
			return url
		})
	})
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		testHeartbeatSubjects(t, func(cfg *relayConfig) string { return avroConfig(t, cfg) })
	})
}

// testHeartbeatSubjects runs a relay configured by avroSetup (which returns
// the registry's URL) with a heartbeat every second to <prefix>.heartbeat,
// and checks the heartbeat topic's subjects against its records.
func testHeartbeatSubjects(t *testing.T, avroSetup func(*relayConfig) string) {
	dsn, brokers, _ := newTestDB(t, markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, markerTable)
	url := avroSetup(cfg)
	topic := cfg.TopicPrefix + ".heartbeat"
	cfg.set("heartbeat.interval", "1s")
	cfg.set("heartbeat.topic", topic)
	deleteArtifactsAfter(t, url, topic+"-key", topic+"-value",
		cfg.TopicPrefix+".message-key", cfg.TopicPrefix+".message-value")
	startRelay(t, cfg)
	ac := newAvroCollector(t, brokers, url, topic)
	ac.waitFor(time.Minute, "2 heartbeat records on "+topic, func() bool { return len(ac.avro) >= 2 })

	for _, r := range ac.avro {
		if m, _ := r.ValueMap["message"].(map[string]any); r.ValueMap["op"] != "m" || m["prefix"] != "walrelay_heartbeat" {
			t.Fatalf("record %s@%d is not a heartbeat: %v", r.Topic, r.Offset, r.ValueMap)
		}
	}
	r := ac.avro[len(ac.avro)-1]
	for _, c := range []struct {
		subject     string
		id          uint32
		wire        []byte
		field, want string
	}{{topic + "-key", r.KeyID, r.KeyRaw, "prefix", "walrelay_heartbeat"}, {topic + "-value", r.ValueID, r.Value, "op", "m"}} {
		if ids := subjectVersionIDs(t, url, c.subject); !slices.Contains(ids, c.id) {
			t.Errorf("subject %s holds schema IDs %v; the heartbeat records carry %d", c.subject, ids, c.id)
		}
		latestDecodes(t, url, c.subject, c.id, c.wire, c.field, c.want)
	}
}

// latestDecodes checks what a Confluent deserializer configured with
// use.latest.version does: it takes subject's latest version, which must
// be schema id, and decodes the record's bytes wire with it, finding want
// in field.
func latestDecodes(t *testing.T, url, subject string, id uint32, wire []byte, field, want string) {
	t.Helper()
	var latest struct {
		ID     int    `json:"id"`
		Schema string `json:"schema"`
	}
	status, err := httpJSON(http.MethodGet, url+"/subjects/"+subject+"/versions/latest", nil, &latest)
	if err != nil || status != http.StatusOK {
		t.Errorf("GET /subjects/%s/versions/latest: HTTP %d %v", subject, status, err)
		return
	}
	if uint32(latest.ID) != id {
		t.Errorf("latest version of %s is schema %d, the records carry %d", subject, latest.ID, id)
	}
	s, err := registry.Parse(latest.Schema)
	if err != nil {
		t.Errorf("latest schema of %s: %v", subject, err)
		return
	}
	_, payload, err := schema.ParseWire(wire)
	if err != nil {
		t.Fatalf("%s record: %v", subject, err)
	}
	var v map[string]any
	if err := avro.Unmarshal(s, payload, &v); err != nil {
		t.Errorf("decoding a record with the latest schema of %s: %v", subject, err)
	} else if m, _ := avrogeneric.Unwrap(v).(map[string]any); fmt.Sprint(m[field]) != want {
		t.Errorf("record decoded with the latest schema of %s: %v, want %s %q", subject, m, field, want)
	}
}

// deleteArtifactsAfter deletes subjects from an Apicurio registry when the
// test ends (the embedded registry goes with the test's data directory).
func deleteArtifactsAfter(t *testing.T, url string, subjects ...string) {
	if !strings.Contains(url, "/apis/ccompat/") {
		return
	}
	native := strings.Replace(strings.TrimRight(url, "/"), "/apis/ccompat/v7", "/apis/registry/v2/groups/default/artifacts", 1)
	native = strings.Replace(native, "/apis/ccompat/v6", "/apis/registry/v2/groups/default/artifacts", 1)
	t.Cleanup(func() {
		for _, s := range subjects {
			if status, err := httpJSON(http.MethodDelete, native+"/"+s, nil, nil); err != nil || status >= 300 && status != 404 {
				t.Logf("delete artifact %s: %d %v", s, status, err)
			}
		}
	})
}
