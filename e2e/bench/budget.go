package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CPUBudget is where the machine's CPU went during a latency run's measured
// window (the writer's run after the warm-up): every party the bench can
// name, and the machine as a whole. On a small machine the writer, the
// server and the broker share the CPUs with the consumer under test, so a
// p99 taken while the machine was saturated measures the machine.
type CPUBudget struct {
	WindowS float64 `json:"window_s"`
	// MachineCores is the CPUs the kernel schedules on; MachineBusyCores
	// how many of them were busy on average (all processes, /proc/stat).
	MachineCores     int        `json:"machine_cores"`
	MachineBusyCores float64    `json:"machine_busy_cores"`
	Parties          []PartyCPU `json:"parties"`
}

// PartyCPU is one process's average CPU use over the window, in cores.
type PartyCPU struct {
	Name  string  `json:"name"`
	Cores float64 `json:"cores"`
}

// saturated reports whether 90% or more of the machine's cores were busy:
// beyond that, run-queue waits set the tail, whatever runs.
func (c *CPUBudget) saturated() bool {
	return c != nil && c.MachineCores > 0 && c.MachineBusyCores >= 0.9*float64(c.MachineCores)
}

// String is the budget on one line: "1.96 of 2 cores busy: walrelay 0.61,
// writer's backend 0.47, …".
func (c *CPUBudget) String() string {
	parts := make([]string, len(c.Parties))
	for i, p := range c.Parties {
		parts[i] = fmt.Sprintf("%s %.2f", p.Name, p.Cores)
	}
	return fmt.Sprintf("%.2f of %d cores busy: %s", c.MachineBusyCores, c.MachineCores, strings.Join(parts, ", "))
}

// cpuProbe is the first reading of a budget.
type cpuProbe struct {
	at      time.Time
	busy    float64        // machine-wide busy seconds
	parties map[string]int // name -> pid
	cpu     map[string]float64
}

// startCPUProbe reads the machine's and each party's CPU so far. A party
// whose pid is 0 or unreadable is left out.
func startCPUProbe(parties map[string]int) *cpuProbe {
	p := &cpuProbe{at: time.Now(), parties: map[string]int{}, cpu: map[string]float64{}}
	p.busy, _ = machineBusy()
	for name, pid := range parties {
		if pid <= 0 {
			continue
		}
		if s, err := cpuSeconds(pid); err == nil {
			p.parties[name], p.cpu[name] = pid, s
		}
	}
	return p
}

// end reads again and returns the budget since start, nil when the window
// was too short to say anything. Parties are sorted by CPU, largest first.
func (p *cpuProbe) end() *CPUBudget {
	win := time.Since(p.at).Seconds()
	busy, err := machineBusy()
	if win < 1 || err != nil {
		return nil
	}
	c := &CPUBudget{WindowS: win, MachineCores: runtime.NumCPU(), MachineBusyCores: (busy - p.busy) / win}
	for name, pid := range p.parties {
		if s, err := cpuSeconds(pid); err == nil {
			c.Parties = append(c.Parties, PartyCPU{Name: name, Cores: (s - p.cpu[name]) / win})
		}
	}
	sort.Slice(c.Parties, func(i, j int) bool { return c.Parties[i].Cores > c.Parties[j].Cores })
	return c
}

// machineBusy returns the seconds all CPUs spent not idle (nor waiting on
// I/O) since boot, from the first line of /proc/stat.
func machineBusy() (float64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	// user nice system idle iowait irq softirq steal (guest is in user).
	var busy float64
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy / clkTck, nil
}

// The parties of every budget, besides the consumer under test.
const (
	writerParty = "writer's backend"
	benchParty  = "bench (writer, latency consumer)"
)

// parties returns the processes a latency run's budget names: the consumer
// under test (pid; 0 when it runs inside the bench), the walsender serving
// slot (when the server is local), the broker the bench started, and the
// bench itself (the writer's client and the latency consumer).
func (b *bench) parties(ctx context.Context, consumer string, pid int, slot string) map[string]int {
	m := map[string]int{benchParty: os.Getpid()}
	if pid > 0 {
		m[consumer] = pid
	}
	if b.svc.brokerPID > 0 {
		m["kafka broker"] = b.svc.brokerPID
	}
	if st, err := readSlot(ctx, b.db, slot); err == nil && b.svc.localPG && isPostgresProcess(st.pid) {
		m["walsender"] = st.pid
	}
	return m
}
