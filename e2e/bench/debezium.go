package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/walrelay/walrelay/internal/dbzserver"
)

// debeziumCacheDir is where Debezium Server is unpacked:
// $WALRELAY_CACHE (default ~/.cache/walrelay)/debezium-<version>.
func debeziumCacheDir(version string) (string, error) {
	cache := os.Getenv("WALRELAY_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("debezium cache: %w (set WALRELAY_CACHE)", err)
		}
		cache = filepath.Join(home, ".cache", "walrelay")
	}
	return filepath.Join(cache, "debezium-"+version), nil
}

// ensureDebezium returns the unpacked debezium-server directory, fetching
// io.debezium:debezium-server-dist:<version>:tar.gz from Maven Central with
// `mvn dependency:unpack` the first time (about 450 MB; Maven's ~/.m2 keeps
// the archive).
func ensureDebezium(ctx context.Context, version string) (string, error) {
	cache, err := debeziumCacheDir(version)
	if err != nil {
		return "", err
	}
	dist := filepath.Join(cache, "debezium-server")
	if _, err := os.Stat(filepath.Join(dist, "run.sh")); err == nil {
		return dist, nil
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", fmt.Errorf("Debezium Server is not in %s and mvn is not installed (apt-get install -y maven)", cache)
	}
	tmp := filepath.Join(cache, "unpack.tmp")
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", fmt.Errorf("debezium cache: %w", err)
	}
	artifact := "io.debezium:debezium-server-dist:" + version + ":tar.gz"
	progress("fetching %s from Maven Central into %s", artifact, cache)
	cmd := exec.CommandContext(ctx, "mvn", "-B", "-q", "-Dstyle.color=never", "dependency:unpack",
		"-Dartifact="+artifact, "-DoutputDirectory="+tmp, "-DmarkersDirectory="+filepath.Join(tmp, ".markers"))
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mvn dependency:unpack %s: %w\n%s", artifact, err, tail(string(out), 20))
	}
	if err := os.Rename(filepath.Join(tmp, "debezium-server"), dist); err != nil {
		return "", fmt.Errorf("debezium: %s has no debezium-server directory: %w", artifact, err)
	}
	_ = os.RemoveAll(tmp)
	return dist, nil
}

// debeziumProps is Debezium Server's application.properties for one run:
// Postgres source with pgoutput on an existing slot and publication, no
// snapshot, Kafka sink with acks=all, JSON without schemas (the shape of
// walrelay's JSON).
func (b *bench) debeziumProps(dir, slot, pub, prefix, include string) (map[string]string, error) {
	return dbzserver.Props(dbzserver.Source{DSN: b.svc.dsn, Brokers: b.svc.brokers, Dir: dir,
		Prefix: prefix, Slot: slot, Publication: pub, Include: include})
}

// startDebezium writes dir/config/application.properties and starts the
// JVM the way run.sh does (java -cp runner.jar:config/lib:lib/* Main), with
// dir as working directory, so the process is the JVM itself. libCP, when
// not "", replaces lib/* (the Avro pass's classpath).
func (b *bench) startDebezium(ctx context.Context, name, dir string, props map[string]string, libCP string) (*proc, error) {
	for _, kv := range b.o.dbzProps {
		k, v, _ := strings.Cut(kv, "=")
		props[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	cmd, err := dbzserver.Command(ctx, b.javaBin, b.dbzDist, dir, strings.Fields(b.o.dbzJavaOpt), props, libCP)
	if err != nil {
		return nil, err
	}
	return startProc(name, cmd, filepath.Join(dir, "debezium.log"))
}

// debeziumPhases runs Debezium Server once with JSON: it measures the backlog pass
// from its own slot (done when every backlog row is a record in Kafka, the
// sum of the end offsets; bounded by --debezium-timeout, a pass cut short is
// partial, its rate the records so far over the time so far), then, with the
// JVM warm and caught up, the latency at rate (0 = skip) on the latency
// table, which its publication holds from the start.
func (b *bench) debeziumPhases(ctx context.Context, slot string, rate int) (RunResult, *LatencyResult) {
	name := "debezium-server json"
	dir := filepath.Join(b.work, slot)
	prefix := b.topicPrefix(slot)
	topics := topicNames(prefix, orderTables(b.o.tables))
	latTopic := prefix + "." + benchSchema + "." + latencyTable
	fail := func(err error) (RunResult, *LatencyResult) {
		return RunResult{Consumer: name, Slot: slot, Error: err.Error()}, nil
	}
	if err := b.adm.createTopics(ctx, append(topics, latTopic)...); err != nil {
		return fail(err)
	}
	include := benchSchema + `\\.(` + orderTableBase + ".*|" + latencyTable + ")"
	props, err := b.debeziumProps(dir, slot, debeziumPub, prefix, include)
	if err != nil {
		return fail(err)
	}
	p, err := b.startDebezium(ctx, name, dir, props, "")
	if err != nil {
		return fail(err)
	}
	defer func() { _ = p.stop(30 * time.Second) }()
	r := watch(ctx, watchSpec{
		name: name, slot: slot, rows: b.backlog.Rows, p: p, topics: topics, adm: b.adm, kafkaDone: true,
		timeout: b.o.dbzTimeout, localPG: b.svc.localPG, db: b.db, brokerPID: b.svc.brokerPID,
		onDone: func(r *RunResult) { readLive(p, r) },
	})
	progress("%s (%s): %s", name, slot, r.brief())
	if rate == 0 || r.Error != "" || ctx.Err() != nil {
		if rate > 0 {
			b.rep.note("Debezium latency not measured: its backlog pass did not finish")
		}
		return r, nil
	}
	lat := b.measureLatency(ctx, name, latTopic, rate, p.pid(), slot, nil)
	if st, err := readProcStat(p.pid()); err == nil {
		lat.PeakRSSMB, lat.CPUSeconds = st.PeakRSSMB, st.CPUSeconds
	}
	return r, &lat
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
