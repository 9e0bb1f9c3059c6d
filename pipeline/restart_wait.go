package pipeline

import (
	"context"
	"time"

	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/logfield"
)

// waitRestart waits out delay, the backoff before a halted pipeline
// restarts, and reports false if ctx ended first. A SIGHUP (opts.Reload)
// during the wait is answered at once (reloadNow): the halt message says
// "fix it, then send SIGHUP", so a fixed rules file restarts the pipeline
// now instead of when the backoff ends (up to maxRestartDelay); a file that
// still does not load is refused, and the wait goes on.
func waitRestart(ctx context.Context, opts Options, delay time.Duration) bool {
	due := time.Now().Add(delay)
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-opts.Reload:
			if reloadNow(opts, time.Until(due)) {
				return true
			}
		}
	}
}

// reloadNow answers a SIGHUP that came while the pipeline waits to restart
// (left before it does) and reports whether to restart now: with no rules
// file, yes (the operator fixed something else); with one, if it loads.
// The restarted session loads it again and checks it against the catalog
// (openFilter), as every restart does.
func reloadNow(opts Options, left time.Duration) bool {
	cfg, log := opts.Config, opts.Log
	if cfg.Rules == "" {
		log.Info().Msg("SIGHUP: no rules file configured; restarting the pipeline now")
		return true
	}
	rules, err := filter.Load(cfg.Rules, cfg.MaskSalt)
	if err != nil {
		log.Error().Err(err).Str("rules", cfg.Rules).Float64("retry_in_seconds", logfield.Seconds(left)).
			Msg("SIGHUP: rules file not loaded; the pipeline restarts when the backoff ends, with this file if it is fixed by then, " +
				"else with the rules in force")
		return false
	}
	log.Info().Str("rules", cfg.Rules).Int("rules_count", len(rules.Rules)).
		Msg("SIGHUP: rules file loaded; restarting the pipeline now with it")
	return true
}
