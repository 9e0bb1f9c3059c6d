package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/walrelay/walrelay/devenv"
	"github.com/walrelay/walrelay/internal/dbzserver"
)

// cacheDir is where the bench keeps Debezium Server and the Apicurio
// converter ($WALRELAY_CACHE, default ~/.cache/walrelay): `go run ./e2e/bench
// --with-debezium` fetches them there once.
func cacheDir() string {
	if c := os.Getenv("WALRELAY_CACHE"); c != "" {
		return c
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "walrelay")
}

// defaultJava is $JAVA_HOME/bin/java, else the newest JDK under
// /usr/lib/jvm (Debezium Server 3.x needs Java 21+), else java on PATH.
func defaultJava() string {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		return filepath.Join(h, "bin", "java")
	}
	jvms, _ := filepath.Glob("/usr/lib/jvm/*/bin/java")
	sort.Strings(jvms)
	best, bestV := "java", 0
	for _, j := range jvms {
		if v := jdkRelease(j); v > bestV {
			best, bestV = j, v
		}
	}
	return best
}

// jdkRelease reads the feature release from a JDK's release file (0 if
// unreadable): JAVA_VERSION="25.0.1" -> 25.
func jdkRelease(java string) int {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(java)), "release"))
	if err != nil {
		return 0
	}
	_, v, ok := strings.Cut(string(b), `JAVA_VERSION="`)
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(strings.Split(strings.Split(v, `"`)[0], ".")[0])
	return n
}

// modeSet is one combination of Debezium's value-mode settings, applied to
// both connectors (walrelay's config keys and Debezium's property names).
type modeSet struct {
	name     string
	relay    map[string]string // walrelay top-level config key -> value
	debezium map[string]string // debezium.source.<key> -> value
}

// modeSets are the combinations --modes chooses from.
var modeSets = map[string]modeSet{
	"default": {name: "default"},
	"string": {name: "string",
		relay: map[string]string{"decimal_handling_mode": "string", "binary_handling_mode": "hex",
			"interval_handling_mode": "string", "time_precision_mode": "connect"},
		debezium: map[string]string{"decimal.handling.mode": "string", "binary.handling.mode": "hex",
			"interval.handling.mode": "string", "time.precision.mode": "connect"},
	},
}

// buildRelay builds walrelay from the module root into dir/walrelay.
func buildRelay(ctx context.Context, root, dir string) (string, error) {
	path := filepath.Join(dir, "walrelay")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -o %s . (in %s): %w\n%s", path, root, err, out)
	}
	return path, nil
}

// relayConfigYAML is walrelay's config for a pass: JSON, stream only (no
// snapshot; the snapshot pass: snapshot.mode initial with the default
// parallelism), the pass's slot, the existing publication used as it is,
// transaction metadata on (Debezium's provide.transaction.metadata is set
// too), and the pass's modes.
func relayConfigYAML(p *pass, brokers []string, registryPort int) ([]byte, error) {
	c := map[string]any{
		"postgres":             map[string]any{"dsn": p.dsn, "slot": p.slotRelay(), "publication": pubName, "tables": p.tables()},
		"publication":          map[string]any{"manage": false},
		"kafka":                map[string]any{"brokers": brokers},
		"topic_prefix":         p.relayPrefix(),
		"format":               p.format,
		"data_dir":             filepath.Join(p.dir, "walrelay-data"),
		"snapshot":             map[string]any{"mode": relaySnapshotMode(p)},
		"transaction_metadata": true,
		"schema_registry":      map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", registryPort)},
		"log":                  map[string]any{"level": "info"},
	}
	if p.format == "avro" {
		c["schema_registry"] = map[string]any{"url": p.registryURL}
	}
	for k, v := range p.modes.relay {
		c[k] = v
	}
	return yaml.Marshal(c)
}

// relaySnapshotMode is walrelay's snapshot.mode for p: initial for the
// snapshot pass, else never.
func relaySnapshotMode(p *pass) string {
	if p.snapshot {
		return "initial"
	}
	return "never"
}

// startRelay writes the config into p.dir and starts `walrelay run`.
func startRelay(ctx context.Context, bin string, p *pass, brokers []string) (*proc, error) {
	port, err := devenv.FreePort()
	if err != nil {
		return nil, err
	}
	data, err := relayConfigYAML(p, brokers, port)
	if err != nil {
		return nil, fmt.Errorf("walrelay config: %w", err)
	}
	cfg := filepath.Join(p.dir, "walrelay.yaml")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		return nil, fmt.Errorf("walrelay config: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	cmd.Env = dbzserver.ChildEnv()
	return startProc("walrelay", cmd, filepath.Join(p.dir, "walrelay.log"))
}

// debeziumProps is Debezium Server's application.properties for a pass, as
// e2e/bench/debezium.go writes it (pgoutput on an existing slot and
// publication, no snapshot, Kafka sink, JSON without schemas), plus
// truncates (skipped.operations=none), transaction metadata, the tables of
// the pass and its modes. The snapshot pass takes snapshot.mode initial
// (its slot, which setupDatabase leaves to the connector, is created by
// Debezium with an exported snapshot).
func debeziumProps(p *pass, brokers []string) (map[string]string, error) {
	props, err := dbzserver.Props(dbzserver.Source{DSN: p.dsn, Brokers: brokers, Dir: p.dir, Prefix: p.dbzPrefix(),
		Slot: p.slotDbz(), Publication: pubName, Include: strings.ReplaceAll(includeList(p.tables()), `\`, `\\`)})
	if err != nil {
		return nil, err
	}
	props["debezium.source.skipped.operations"] = "none"
	props["debezium.source.provide.transaction.metadata"] = "true"
	if p.snapshot {
		props["debezium.source.snapshot.mode"] = "initial"
	}
	for k, v := range p.modes.debezium {
		props["debezium.source."+k] = v
	}
	return props, nil
}

// startDebezium writes p.dir/config/application.properties and starts the
// JVM as run.sh does, with libCP ("" = the distribution's lib/*).
func startDebezium(ctx context.Context, java, dist string, p *pass, props map[string]string, libCP string) (*proc, error) {
	cmd, err := dbzserver.Command(ctx, java, dist, p.dir, []string{"-Xmx512m"}, props, libCP)
	if err != nil {
		return nil, err
	}
	return startProc("debezium", cmd, filepath.Join(p.dir, "debezium.log"))
}

// withDatabase returns dsn (a URL) with its database replaced by db.
func withDatabase(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + db
	return u.String()
}

// redact hides a DSN's password for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
