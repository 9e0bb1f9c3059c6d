package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/replication"
)

// TestStatusSlotBeingCreated: while PostgreSQL creates the slot (it waits
// for the transactions open when walrelay began), its confirmed position
// is NULL; status says the slot is being created and shows no lag. Before,
// it printed the server's whole WAL position as the lag (the audit saw
// "lag 4469842616 bytes" and "confirmed_flush_lsn 0/0").
func TestStatusSlotBeingCreated(t *testing.T) {
	t.Parallel()
	for _, found := range []bool{false, true} {
		var out bytes.Buffer
		printPositions(&out, replication.SlotInfo{Exists: true}, 0x10A6CE0B8, checkpoint.Position{LSN: 0x1000}, found, false)
		text := out.String()
		if !strings.Contains(text, "lag\tnone yet: the slot is being created") || strings.Contains(text, "bytes") ||
			strings.Contains(text, "0/0") {
			t.Errorf("a slot being created (checkpoint stored: %v):\n%s", found, text)
		}
	}
	var out bytes.Buffer
	printPositions(&out, replication.SlotInfo{Exists: true, ConfirmedFlush: 0x1000, RestartLSN: 0x800}, 0x5000,
		checkpoint.Position{}, false, false)
	if text := out.String(); !strings.Contains(text, "lag\t16384 bytes") || !strings.Contains(text, "confirmed_flush_lsn\t0/1000") {
		t.Errorf("a created slot:\n%s", text)
	}
}
