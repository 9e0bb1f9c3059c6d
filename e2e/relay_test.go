package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// relay is one running walrelay process.
type relay struct {
	t        *testing.T
	cfg      *relayConfig
	cmd      *exec.Cmd
	logStart int64         // offset in cfg.logPath where this process's output starts
	done     chan struct{} // closed when the process has exited
	state    *os.ProcessState
	peakKB   atomic.Int64 // highest VmHWM seen, in kB
}

// startRelay writes cfg's config file, starts `walrelay run --config FILE`
// with stdout and stderr appended to cfg's log file, and waits (up to 60 s)
// for the "streaming" log line. The test's cleanup stops the process if it
// still runs (SIGTERM, then SIGKILL after 15 s).
func startRelay(t *testing.T, cfg *relayConfig, extra ...string) *relay {
	t.Helper()
	r := spawnRelay(t, cfg, extra...)
	r.waitLog("streaming", 60*time.Second)
	return r
}

// spawnRelay starts the process (`walrelay run --config F`, then extra
// arguments such as --allow-gap) without waiting for it to stream.
func spawnRelay(t *testing.T, cfg *relayConfig, extra ...string) *relay {
	t.Helper()
	return spawnRelayEnv(t, cfg, nil, extra...)
}

// spawnRelayEnv is spawnRelay with env (KEY=value) added to the relay's
// environment, e.g. a secret the config file must not hold.
func spawnRelayEnv(t *testing.T, cfg *relayConfig, env []string, extra ...string) *relay {
	t.Helper()
	cfg.writeFile()
	cfg.starts++
	f, err := os.OpenFile(cfg.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("open relay log: %v", err)
	}
	defer f.Close()
	fmt.Fprintf(f, "=== e2e: start %d at %s with %q\n", cfg.starts, time.Now().Format(time.RFC3339Nano), extra)
	off, err := f.Seek(0, 2)
	if err != nil {
		t.Fatalf("relay log offset: %v", err)
	}
	cmd := exec.Command(relayBin, append([]string{"run", "--config", cfg.path}, extra...)...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(relayEnv(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start walrelay: %v", err)
	}
	r := &relay{t: t, cfg: cfg, cmd: cmd, logStart: off, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		r.state = cmd.ProcessState
		close(r.done)
	}()
	go r.sampleRSS()
	t.Cleanup(r.stop)
	return r
}

// relayEnv is the test's environment without WALRELAY_* variables, so that
// only the config file configures the relay.
func relayEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WALRELAY_") {
			env = append(env, kv)
		}
	}
	return env
}

// exited reports whether the process has exited.
func (r *relay) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to go.
func (r *relay) kill() {
	r.t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.t.Fatalf("walrelay pid %d still running 10s after SIGKILL", r.cmd.Process.Pid)
	}
}

// term sends SIGTERM and waits up to 30 s for the process to exit; it returns
// the exit code (-1 when a signal ended it) and the time from signal to exit.
// A process still running after 30 s is killed and fails the test.
func (r *relay) term() (code int, took time.Duration) {
	r.t.Helper()
	start := time.Now()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.kill()
		r.t.Fatalf("walrelay pid %d still running 30s after SIGTERM; killed", r.cmd.Process.Pid)
	}
	return r.state.ExitCode(), time.Since(start)
}

// stop is the cleanup: a graceful stop, then a kill.
func (r *relay) stop() {
	if r.exited() {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		<-r.done
	}
}

// sampleRSS records the process's VmHWM every 100 ms while it runs.
func (r *relay) sampleRSS() {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		r.readHWM()
		select {
		case <-r.done:
			return
		case <-tick.C:
		}
	}
}

func (r *relay) readHWM() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil && kb > r.peakKB.Load() {
				r.peakKB.Store(kb)
			}
		}
	}
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes, as
// far as the 100 ms samples saw it (read once more now if it still runs).
func (r *relay) peakRSS() int64 {
	if !r.exited() {
		r.readHWM()
	}
	return r.peakKB.Load() * 1024
}

// waitLog waits for a JSON log line of this process whose "message" is msg
// and returns its fields; it fails the test if the process exits first or
// timeout passes.
func (r *relay) waitLog(msg string, timeout time.Duration) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		exited := r.exited() // check before reading, so a line written just before exit is seen
		if fields := r.findLog(msg); fields != nil {
			return fields
		}
		if exited {
			r.t.Fatalf("walrelay exited (%v) before logging %q; log tail:\n%s", r.state, msg, r.cfg.logTail(30))
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("walrelay did not log %q within %s; log tail:\n%s", msg, timeout, r.cfg.logTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findLog returns the fields of the first JSON log line of this process whose
// "message" is msg, or nil.
func (r *relay) findLog(msg string) map[string]any {
	f, err := os.Open(r.cfg.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(r.logStart, 0); err != nil {
		return nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(msg)) {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(line, &fields) == nil && fields["message"] == msg {
			return fields
		}
	}
	return nil
}
