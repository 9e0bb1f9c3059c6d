package pipeline

import (
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
)

// Options are what Run needs beyond the config file.
type Options struct {
	Config *config.Config
	Log    zerolog.Logger
	// AllowGap starts even when the slot is ahead of the stored checkpoint or
	// missing while a checkpoint exists (invariant 6), accepting the loss:
	// the gap found at the start only (Run clears it once a session stored a
	// checkpoint), never one that happens while the process runs.
	AllowGap bool
	// ReplayFrom, when not zero, re-publishes every transaction committed at
	// or after this LSN; it must lie inside the window the slot retains
	// (checkpoint.retain): [slot's confirmed_flush_lsn, stored checkpoint].
	ReplayFrom event.LSN
	// Version is walrelay's version, written into source.version.
	Version string
	// OnStreaming, when set, is called each time a session starts streaming
	// (the demo uses it to know when to write).
	OnStreaming func()
	// Reload receives a value when the rules file should be reloaded (SIGHUP).
	Reload <-chan struct{}
}
