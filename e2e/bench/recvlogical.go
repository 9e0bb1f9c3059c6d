package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/walrelay/walrelay/internal/dbzserver"
)

// runRecvlogical measures the physical limit: pg_recvlogical with pgoutput
// (proto_version 1, the bench's publication; with binary, also binary=true)
// streams the backlog from its own slot into /dev/null and exits at the
// backlog's end LSN. The rate is the rows over the time the slot was active.
func (b *bench) runRecvlogical(ctx context.Context, slot string, binary bool) RunResult {
	name := "pg_recvlogical"
	if binary {
		name = "pg_recvlogical binary"
	}
	if b.svc.recvBin == "" {
		return RunResult{Consumer: name, Slot: slot, Error: "pg_recvlogical not found on PATH"}
	}
	args := []string{"-d", b.svc.dsn, "-S", slot, "--start", "-P", "pgoutput",
		"-o", "proto_version=1", "-o", "publication_names=" + backlogPub,
		"-f", os.DevNull, "-E", b.backlog.EndLSN, "--no-loop", "-F", "0"}
	if binary {
		args = append(args, "-o", "binary=true")
	}
	cmd := exec.CommandContext(ctx, b.svc.recvBin, args...)
	cmd.Env = dbzserver.ChildEnv()
	p, err := startProc(name, cmd, filepath.Join(b.work, slot+".log"))
	if err != nil {
		return RunResult{Consumer: name, Slot: slot, Error: err.Error()}
	}
	defer func() { _ = p.stop(5 * time.Second) }()
	r := watch(ctx, watchSpec{
		name: name, slot: slot, rows: b.backlog.Rows, p: p, exitIsDone: true,
		timeout: b.o.phaseLimit, localPG: b.svc.localPG, db: b.db, brokerPID: b.svc.brokerPID,
	})
	if ru, ok := p.rusage(); ok {
		r.PeakRSSMB, r.CPUSeconds = ru.PeakRSSMB, ru.CPUSeconds
	}
	progress("%s (%s): %s", name, slot, r.brief())
	return r
}

// brief is a one-line summary for progress output.
func (r RunResult) brief() string {
	if r.Error != "" && !r.Partial {
		return "FAILED: " + r.Error
	}
	s := fmt.Sprintf("%.0f rows/s (%.2fs streaming, %.2fs start-up, CPU %.2fs, walsender CPU %.2fs, peak RSS %.0f MB)",
		r.EventsPerS, r.StreamS, r.StartupS, r.CPUSeconds, r.WalsenderCPUS, r.PeakRSSMB)
	if r.Partial {
		s += " PARTIAL: " + r.Error
	}
	return s
}
