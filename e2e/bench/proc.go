package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// proc is a child process of the bench (walrelay, pg_recvlogical, Debezium
// Server) with its output in a log file. Its methods are called from the
// bench's main goroutine; one goroutine waits for the exit.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	started time.Time
	exited  chan struct{} // closed when the process has been reaped
	exitAt  time.Time     // valid after exited is closed
	err     error         // Wait's result, valid after exited is closed
}

// startProc starts cmd with stdout and stderr appended to logPath.
func startProc(name string, cmd *exec.Cmd, logPath string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: log file: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	// A session of its own, as a service manager gives a service: with
	// sched_autogroup_enabled (the default of many kernels), CFS shares a
	// busy CPU between sessions, and in the bench's session the process
	// measured would share one share with the bench's writer and consumer.
	// A new session is also a new process group, which stop signals.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	p := &proc{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.exitAt = time.Now()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

// pid returns the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// done reports whether the process has exited.
func (p *proc) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group and waits up to grace, then
// SIGKILLs it. It returns the exit error of a process that did not exit
// cleanly on SIGTERM (nil for a clean exit).
func (p *proc) stop(grace time.Duration) error {
	if p.done() {
		return nil
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.exitErr()
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.exited
	return fmt.Errorf("%s did not exit within %s of SIGTERM: killed", p.name, grace)
}

// exitErr is the exit error, nil for exit status 0 or a death by SIGTERM
// the bench asked for.
func (p *proc) exitErr() error {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
		if ee.ExitCode() == 143 { // a JVM's exit on SIGTERM
			return nil
		}
	}
	return p.err
}

// rusage returns peak RSS and CPU seconds of an exited process.
func (p *proc) rusage() (ProcStat, bool) {
	if !p.done() || p.cmd.ProcessState == nil {
		return ProcStat{}, false
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return ProcStat{}, false
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return ProcStat{PeakRSSMB: float64(ru.Maxrss) / 1024, CPUSeconds: cpu}, true
}

// logTail returns the last n lines of the process's log.
func (p *proc) logTail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// failure describes an unexpected exit with the log's tail.
func (p *proc) failure() error {
	return fmt.Errorf("%s exited early (%v); log %s ends with:\n%s", p.name, p.err, p.logPath, p.logTail(15))
}
