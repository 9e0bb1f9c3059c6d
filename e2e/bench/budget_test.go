package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestCPUProbe burns CPU in this process for a second and requires the
// budget to see it, in the process and in the machine, and to leave out
// parties it cannot read. The process's own CPU time (getrusage) is the
// reference, so a machine busy with other work (fewer cores for the loop)
// does not fail it.
func TestCPUProbe(t *testing.T) {
	p := startCPUProbe(map[string]int{"me": os.Getpid(), "nobody": 0, "gone": 1 << 30})
	before := selfCPU(t)
	for t0 := time.Now(); time.Since(t0) < 1100*time.Millisecond; {
	}
	used := selfCPU(t) - before
	c := p.end()
	if c == nil {
		t.Fatal("no budget after a 1.1 s window")
	}
	if len(c.Parties) != 1 || c.Parties[0].Name != "me" {
		t.Fatalf("parties %+v, want only \"me\"", c.Parties)
	}
	want := used / c.WindowS
	if me := c.Parties[0].Cores; me < 0.8*want || me > 1.2*want+0.05 {
		t.Errorf("a busy loop used %.2f cores by getrusage, the probe says %.2f", want, me)
	}
	if c.MachineBusyCores < c.Parties[0].Cores*0.9 {
		t.Errorf("machine busy %.2f cores, less than this process's %.2f", c.MachineBusyCores, c.Parties[0].Cores)
	}
}

// selfCPU is this process's user and system CPU time so far, in seconds.
func selfCPU(t *testing.T) float64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func TestBudgetSaturated(t *testing.T) {
	for _, c := range []struct {
		busy float64
		want bool
	}{{1.96, true}, {1.8, true}, {1.7, false}} {
		b := &CPUBudget{MachineCores: 2, MachineBusyCores: c.busy}
		if got := b.saturated(); got != c.want {
			t.Errorf("%.2f of 2 cores busy: saturated %v, want %v", c.busy, got, c.want)
		}
	}
	if (*CPUBudget)(nil).saturated() {
		t.Error("no budget reported as saturated")
	}
}
