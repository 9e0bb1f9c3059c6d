package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the numbers were taken.
type Machine struct {
	NProc       int     `json:"nproc"`
	MemTotalMB  int     `json:"mem_total_mb"`
	CPUModel    string  `json:"cpu_model"`
	Kernel      string  `json:"kernel"`
	GoVersion   string  `json:"go_version"`
	LoadStart   float64 `json:"load_avg_1m_start"`
	LoadEnd     float64 `json:"load_avg_1m_end"`
	PGVersion   string  `json:"postgres_version"`
	Broker      string  `json:"broker"`
	PostgresSrc string  `json:"postgres"`
	// Autogroup is the kernel's sched_autogroup_enabled (nil: unknown).
	// When on, CFS shares a busy CPU between sessions first: the writer's
	// backend, the walsender, the broker and the consumer measured are
	// each a session, and each gets an equal share whatever its threads.
	Autogroup *bool `json:"sched_autogroup,omitempty"`
}

// readMachine collects nproc, memory, CPU model, kernel and the load average.
func readMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version(), LoadStart: loadAvg()}
	if kb, ok := meminfo("MemTotal"); ok {
		m.MemTotalMB = kb / 1024
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/sys/kernel/sched_autogroup_enabled"); err == nil {
		on := strings.TrimSpace(string(data)) == "1"
		m.Autogroup = &on
	}
	return m
}

// autogroupText describes m.Autogroup for the report's machine line.
func (m Machine) autogroupText() string {
	if m.Autogroup == nil {
		return "CPU autogroups unknown"
	}
	if *m.Autogroup {
		return "CPU autogroups on"
	}
	return "CPU autogroups off"
}

// loadAvg returns the 1-minute load average, or -1 when unknown.
func loadAvg() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// meminfo returns a /proc/meminfo field in kB.
func meminfo(key string) (int, bool) {
	return statusField("/proc/meminfo", key)
}

// statusField reads "Key:   123 kB" from a /proc status-like file.
func statusField(path, key string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			return 0, false
		}
		n, err := strconv.Atoi(fields[0])
		return n, err == nil
	}
	return 0, false
}

// clkTck is the kernel's clock ticks per second, for /proc/<pid>/stat times.
var clkTck = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}()

// ProcStat is one process's resource use so far.
type ProcStat struct {
	PeakRSSMB  float64 // VmHWM
	CPUSeconds float64 // utime + stime
}

// readProcStat reads VmHWM from /proc/<pid>/status and utime+stime from
// /proc/<pid>/stat. It fails once the process has been reaped.
func readProcStat(pid int) (ProcStat, error) {
	var s ProcStat
	hwm, ok := statusField(filepath.Join("/proc", strconv.Itoa(pid), "status"), "VmHWM")
	if !ok {
		return s, fmt.Errorf("no VmHWM for pid %d (process gone?)", pid)
	}
	s.PeakRSSMB = float64(hwm) / 1024
	cpu, err := cpuSeconds(pid)
	if err != nil {
		return s, err
	}
	s.CPUSeconds = cpu
	return s, nil
}

// cpuSeconds returns utime+stime of pid in seconds.
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("cpu of pid %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces: fields count from after ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu of pid %d: malformed /proc stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu of pid %d: short /proc stat", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64) // field 14
	st, err2 := strconv.ParseFloat(f[12], 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cpu of pid %d: bad utime/stime", pid)
	}
	return (ut + st) / clkTck, nil
}

// isPostgresProcess reports whether pid is a local postgres backend, so its
// CPU can be read (only when the server runs on this machine).
func isPostgresProcess(pid int) bool {
	if pid <= 0 {
		return false
	}
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	return err == nil && strings.HasSuffix(filepath.Base(exe), "postgres")
}

// runqueueWait returns how long the threads of pid have waited on a run
// queue (runnable, but no CPU free), in seconds: the sum of the second field
// of /proc/<pid>/task/*/schedstat. A large value next to the CPU time means
// the machine, not the process, set the pace.
func runqueueWait(pid int) (float64, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("no pid")
	}
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "schedstat"))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("schedstat of pid %d: none", pid)
	}
	var ns float64
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(data))
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err == nil {
			ns += v
		}
	}
	return ns / 1e9, nil
}
