// Package dbzserver runs Debezium Server 3.x from its unpacked distribution
// for the tools that compare walrelay with it (e2e/bench, e2e/parity): the
// application.properties file, the JVM command, the Avro converter
// settings, and the small process helpers both need.
package dbzserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Command writes props (sorted, one key=value per line) to
// dir/config/application.properties and returns the JVM command that runs
// Debezium Server as the distribution's run.sh does, started in dir with
// ChildEnv. libCP is the classpath of its libraries ("" = dist/lib/*).
func Command(ctx context.Context, java, dist, dir string, javaOpts []string, props map[string]string, libCP string) (*exec.Cmd, error) {
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		return nil, fmt.Errorf("debezium run directory: %w", err)
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s=%s\n", k, props[k])
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "application.properties"), []byte(sb.String()), 0o600); err != nil {
		return nil, fmt.Errorf("debezium config: %w", err)
	}
	runners, _ := filepath.Glob(filepath.Join(dist, "debezium-server-*runner.jar"))
	if len(runners) != 1 {
		return nil, fmt.Errorf("debezium: want one debezium-server-*runner.jar in %s, found %d", dist, len(runners))
	}
	if libCP == "" {
		libCP = filepath.Join(dist, "lib", "*")
	}
	cp := strings.Join([]string{runners[0], filepath.Join(dist, "config", "lib"), libCP}, ":")
	args := append(append([]string{}, javaOpts...), "-cp", cp, "io.debezium.server.Main")
	cmd := exec.CommandContext(ctx, java, args...)
	cmd.Dir = dir
	cmd.Env = ChildEnv()
	return cmd, nil
}

// AvroProps turns JSON properties into Avro ones: Apicurio 2.x's
// AvroConverter for key and value (Debezium picks it when
// apicurio.registry.url is set), schemas registered on first use in the
// registry at registryURL (its native v2 API), the Kafka producer sending
// the converter's bytes as they are.
func AvroProps(props map[string]string, registryURL string) {
	delete(props, "debezium.format.key.schemas.enable")
	delete(props, "debezium.format.value.schemas.enable")
	props["debezium.sink.kafka.producer.key.serializer"] = "org.apache.kafka.common.serialization.ByteArraySerializer"
	props["debezium.sink.kafka.producer.value.serializer"] = "org.apache.kafka.common.serialization.ByteArraySerializer"
	for _, side := range []string{"key", "value"} {
		p := "debezium.format." + side
		props[p] = "avro"
		props[p+".apicurio.registry.url"] = registryURL
		props[p+".apicurio.registry.auto-register"] = "true"
		props[p+".apicurio.registry.find-latest"] = "true"
	}
}

// ChildEnv is this process's environment without WALRELAY_* variables (a
// developer's WALRELAY_POSTGRES_DSN would otherwise override the config
// file of a walrelay it starts), plus extra.
func ChildEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WALRELAY_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
