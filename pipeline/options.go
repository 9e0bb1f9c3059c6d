package pipeline

import (
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
)

// Options are what Run needs beyond the config file.
type Options struct {
	Config *config.Config
	Log    zerolog.Logger
	// AllowGap starts even when the slot is ahead of the stored checkpoint or
	// missing while a checkpoint exists (invariant 6), accepting the loss.
	AllowGap bool
	// Version is walrelay's version, written into source.version.
	Version string
	// OnStreaming, when set, is called each time a session starts streaming
	// (the demo uses it to know when to write).
	OnStreaming func()
	// Reload receives a value when the rules file should be reloaded (SIGHUP).
	Reload <-chan struct{}
}
