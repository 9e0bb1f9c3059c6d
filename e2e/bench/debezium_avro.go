package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/walrelay/walrelay/internal/dbzserver"
)

// apicurioConverterVersion is the Apicurio Registry release whose Kafka
// Connect Avro converter Debezium's Avro pass uses: the registry
// .ci/apicurio.sh runs (2.4.2) has no v3 API, which the 3.x serdes bundled
// with Debezium Server 3.x speak.
const apicurioConverterVersion = "2.4.2.Final"

// dbzAvro is what the Debezium Avro pass needs beyond the JSON pass: the
// classpath with Apicurio 2.x's converter in place of the bundled 3.x
// serdes. Set up by prepareDebeziumAvro; the registry itself is started by
// the pass (startApicurio), so it does not run during the other passes.
type dbzAvro struct {
	classpath string // Debezium's lib jars without apicurio-*, plus the converter's
}

// prepareDebeziumAvro fetches the Apicurio 2.x Avro converter (once, into the
// cache) and builds the Avro pass's classpath. Called on the main goroutine
// after prepareDebezium succeeded; on error the caller skips the Avro pass.
func (b *bench) prepareDebeziumAvro(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(b.root, ".ci", "apicurio.sh")); err != nil {
		return fmt.Errorf("no .ci/apicurio.sh to start a schema registry: %w", err)
	}
	conv, err := ensureAvroConverter(ctx, b.root)
	if err != nil {
		return err
	}
	cp, err := avroClasspath(filepath.Join(b.dbzDist, "lib"), conv)
	if err != nil {
		return err
	}
	b.dbzAvro = &dbzAvro{classpath: cp}
	return nil
}

// ensureAvroConverter returns the directory holding
// io.apicurio:apicurio-registry-utils-converter:<version> and its runtime
// dependencies, resolved from Maven Central by e2e/bench/debezium-avro/pom.xml
// into $WALRELAY_CACHE/apicurio-converter-<version>/lib the first time.
func ensureAvroConverter(ctx context.Context, root string) (string, error) {
	cache, err := debeziumCacheDir(apicurioConverterVersion)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(cache), "apicurio-converter-"+apicurioConverterVersion)
	lib := filepath.Join(dir, "lib")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return lib, nil
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", errors.New("the Apicurio Avro converter is not cached and mvn is not installed (apt-get install -y maven)")
	}
	_ = os.RemoveAll(dir)
	pom := filepath.Join(root, "e2e", "bench", "debezium-avro", "pom.xml")
	progress("fetching io.apicurio:apicurio-registry-utils-converter:%s from Maven Central into %s", apicurioConverterVersion, lib)
	cmd := exec.CommandContext(ctx, "mvn", "-B", "-q", "-Dstyle.color=never", "-f", pom,
		"dependency:copy-dependencies", "-DincludeScope=runtime", "-Dapicurio.version="+apicurioConverterVersion,
		"-DoutputDirectory="+lib)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mvn -f %s dependency:copy-dependencies: %w\n%s", pom, err, tail(string(out), 20))
	}
	if err := os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644); err != nil {
		return "", fmt.Errorf("apicurio converter cache: %w", err)
	}
	return lib, nil
}

// jarVersionRe splits "avro-1.11.1.jar" into artifact "avro" and version.
var jarVersionRe = regexp.MustCompile(`^(.+?)-\d[^-]*(?:-.*)?\.jar$`)

// jarArtifact returns the artifact name of a jar file name (without version).
func jarArtifact(name string) string {
	if m := jarVersionRe.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return strings.TrimSuffix(name, ".jar")
}

// avroClasspath lists Debezium's lib jars one by one except the bundled
// Apicurio ones (apicurio-*: 3.x serdes and SDKs), then the converter's
// jars: every io.apicurio 2.x one (apicurio-*) and the others only when
// Debezium's lib lacks that artifact (Debezium's avro-less lib gets Avro and
// commons-compress; its own Kafka, Jackson and slf4j win). Lombok is a
// compile-time tool and is left out.
func avroClasspath(dbzLib, convLib string) (string, error) {
	dbz, err := filepath.Glob(filepath.Join(dbzLib, "*.jar"))
	if err != nil || len(dbz) == 0 {
		return "", fmt.Errorf("debezium avro: no jars in %s", dbzLib)
	}
	conv, err := filepath.Glob(filepath.Join(convLib, "*.jar"))
	if err != nil || len(conv) == 0 {
		return "", fmt.Errorf("debezium avro: no jars in %s", convLib)
	}
	var cp []string
	have := map[string]bool{}
	for _, j := range dbz {
		name := filepath.Base(j)
		if strings.HasPrefix(name, "apicurio-") {
			continue
		}
		have[jarArtifact(name)] = true
		cp = append(cp, j)
	}
	var added []string
	for _, j := range conv {
		name := filepath.Base(j)
		a := jarArtifact(name)
		if a == "lombok" || (!strings.HasPrefix(name, "apicurio-") && have[a]) {
			continue
		}
		added = append(added, j)
	}
	if !slices.ContainsFunc(added, func(j string) bool {
		return strings.HasPrefix(filepath.Base(j), "apicurio-registry-utils-converter-")
	}) {
		return "", fmt.Errorf("debezium avro: no apicurio-registry-utils-converter jar in %s", convLib)
	}
	return strings.Join(append(cp, added...), ":"), nil
}

// registry is a running Apicurio Registry started with .ci/apicurio.sh.
type registry struct {
	url  string // native v2 API: http://127.0.0.1:PORT/apis/registry/v2
	stop func()
}

// startApicurio starts Apicurio Registry 2.4.2 with `.ci/apicurio.sh start
// dir` (in-memory storage, a free port) and returns its native API URL; the
// caller calls stop. The script's output goes to stderr.
func startApicurio(ctx context.Context, root, dir string) (*registry, error) {
	script := filepath.Join(root, ".ci", "apicurio.sh")
	progress("starting Apicurio Registry: bash %s start %s", script, dir)
	stop := func() {
		cmd := exec.Command("bash", script, "stop", dir)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		_ = cmd.Run()
	}
	cmd := exec.CommandContext(ctx, "bash", script, "start", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		stop()
		return nil, fmt.Errorf("bash .ci/apicurio.sh start %s: %w (see the lines above)", dir, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "url"))
	if err != nil {
		stop()
		return nil, fmt.Errorf("apicurio.sh wrote no url file: %w", err)
	}
	ccompat := strings.TrimSpace(string(data))
	base, _, ok := strings.Cut(ccompat, "/apis/ccompat/")
	if !ok {
		stop()
		return nil, fmt.Errorf("apicurio.sh url %q has no /apis/ccompat/", ccompat)
	}
	return &registry{url: base + "/apis/registry/v2", stop: stop}, nil
}

// debeziumAvroPass runs Debezium Server once with Avro values and keys over
// the backlog from slot: the registry is started for the pass and stopped
// after it. Only the backlog is measured (throughput, CPU, peak RSS), the
// same way as the JSON pass. skipped is non-nil when the pass could not
// start for a reason outside Debezium (the registry): the caller reports it
// skipped rather than failed.
func (b *bench) debeziumAvroPass(ctx context.Context, slot string) (r RunResult, skipped error) {
	name := "debezium-server avro"
	dir := filepath.Join(b.work, slot)
	reg, err := startApicurio(ctx, b.root, filepath.Join(b.work, "apicurio"))
	if err != nil {
		return RunResult{}, err
	}
	defer reg.stop()
	prefix := b.topicPrefix(slot)
	topics := topicNames(prefix, orderTables(b.o.tables))
	fail := func(err error) (RunResult, error) {
		return RunResult{Consumer: name, Slot: slot, Error: err.Error()}, nil
	}
	if err := b.adm.createTopics(ctx, topics...); err != nil {
		return fail(err)
	}
	// Only the backlog tables: the slot also holds the JSON pass's latency
	// rows, written after the backlog.
	props, err := b.debeziumProps(dir, slot, debeziumPub, prefix, benchSchema+`\\.`+orderTableBase+".*")
	if err != nil {
		return fail(err)
	}
	dbzserver.AvroProps(props, reg.url)
	p, err := b.startDebezium(ctx, name, dir, props, b.dbzAvro.classpath)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = p.stop(30 * time.Second) }()
	r = watch(ctx, watchSpec{
		name: name, slot: slot, rows: b.backlog.Rows, p: p, topics: topics, adm: b.adm, kafkaDone: true,
		timeout: b.o.dbzTimeout, localPG: b.svc.localPG, db: b.db, brokerPID: b.svc.brokerPID,
		onDone: func(r *RunResult) { readLive(p, r) },
	})
	if r.Error == "" && r.Rows > 0 {
		if err := checkAvroRecord(ctx, b.svc.brokers, topics[0]); err != nil {
			r.Error = err.Error()
		}
	}
	progress("%s (%s): %s", name, slot, r.brief())
	return r, nil
}

// checkAvroRecord reads one record of topic from its start and checks its
// value is a registry-framed Avro datum (Apicurio 2.x's converter writes a
// 0 magic byte and the schema's 8-byte global ID before the datum), so a
// misconfigured pass that still wrote JSON fails instead of being measured.
func checkAvroRecord(ctx context.Context, brokers []string, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return fmt.Errorf("avro check consumer for %s: %w", topic, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		fetches := cl.PollRecords(ctx, 1)
		if recs := fetches.Records(); len(recs) > 0 {
			return avroFramed(recs[0].Value, topic)
		}
	}
	return fmt.Errorf("avro check: no record read from %s in 30s", topic)
}

// avroFramed checks a record value starts with the 0 magic byte and an ID.
func avroFramed(v []byte, topic string) error {
	if len(v) < 10 || v[0] != 0 {
		head := v[:min(len(v), 16)]
		return fmt.Errorf("records on %s are not registry-framed Avro (value starts %q)", topic, head)
	}
	return nil
}
