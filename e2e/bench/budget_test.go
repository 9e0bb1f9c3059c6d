package main

import (
	"os"
	"testing"
	"time"
)

// TestCPUProbe burns CPU in this process for a second and requires the
// budget to see it, in the process and in the machine, and to leave out
// parties it cannot read.
func TestCPUProbe(t *testing.T) {
	p := startCPUProbe(map[string]int{"me": os.Getpid(), "nobody": 0, "gone": 1 << 30})
	for t0 := time.Now(); time.Since(t0) < 1100*time.Millisecond; {
	}
	c := p.end()
	if c == nil {
		t.Fatal("no budget after a 1.1 s window")
	}
	if len(c.Parties) != 1 || c.Parties[0].Name != "me" {
		t.Fatalf("parties %+v, want only \"me\"", c.Parties)
	}
	if me := c.Parties[0].Cores; me < 0.5 || me > 1.2 {
		t.Errorf("a busy loop used %.2f cores, want about 1", me)
	}
	if c.MachineBusyCores < c.Parties[0].Cores*0.9 {
		t.Errorf("machine busy %.2f cores, less than this process's %.2f", c.MachineBusyCores, c.Parties[0].Cores)
	}
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
