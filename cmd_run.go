package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/jackc/pglogrepl"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/pipeline"
)

// cmdRun implements `walrelay run`. Once its logger exists, an error it
// returns is in the log already (loggedError).
func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "config file (YAML); WALRELAY_* variables override it")
	allowGap := fs.Bool("allow-gap", false, "start even if changes were lost since the stored checkpoint")
	replayFrom := fs.String("replay-from", "", "re-publish transactions committed at or after this LSN (inside the checkpoint.retain window)")
	logFormat := fs.String("log-format", "", "json or console (overrides log.format)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until exit (for performance work)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (overrides log.level)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLogFlags(*logFormat, *logLevel); err != nil {
		return err
	}
	var replay pglogrepl.LSN
	if *replayFrom != "" {
		var err error
		if replay, err = pglogrepl.ParseLSN(*replayFrom); err != nil || replay == 0 {
			return fmt.Errorf("--replay-from %q: not an LSN (use the form 0/16B3748)", *replayFrom)
		}
	}
	logFlags := func(c config.Log) config.Log {
		if *logFormat != "" {
			c.Format = *logFormat
		}
		if *logLevel != "" {
			c.Level = *logLevel
		}
		return c
	}
	cfg, err := config.Load(*file, os.Environ())
	if err != nil {
		return logConfigError(err, *file, logFlags, stderr)
	}
	cfg.Log = logFlags(cfg.Log)
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		log.Warn().Str("key", w.Key).Str("fix", w.Fix).Msg(w.What)
	}
	tuneGC(cfg.Limits, log)
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			pipeline.LogExit(log, err)
			return loggedError{err}
		}
		defer stop()
	}
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	err = pipeline.Run(ctx, pipeline.Options{Config: cfg, Log: log, AllowGap: *allowGap,
		ReplayFrom: replay, Version: version, Reload: reload})
	if err != nil {
		return loggedError{err} // Run's "stopped" line has it
	}
	return nil
}

// checkLogFlags refuses a --log-format or --log-level value that log.format
// or log.level would refuse in the file or a WALRELAY_LOG_ variable, naming
// the flag and the values it takes; "" is no flag. Without it an unknown
// format was taken silently (JSON logs) and an unknown level was reported
// as zerolog's "defaulting to NoLevel" under the file's key.
func checkLogFlags(format, level string) error {
	switch {
	case format != "" && !config.ValidLogFormat(format):
		return fmt.Errorf("--log-format: unknown format %q (use json or console)", format)
	case level != "" && !config.ValidLogLevel(level):
		return fmt.Errorf("--log-level: unknown level %q (use debug, info, warn or error)", level)
	}
	return nil
}

// logConfigError reports err, the error config.Load returned for the
// config file at path, as the "stopped" line of the log that the file's and
// the WALRELAY_LOG_ variables' log settings (then the flags, logFlags) ask
// for, and returns it as a loggedError. When those settings do not load
// (the file cannot be read or parsed, a log setting is invalid) it returns
// err itself, for realMain's plain "walrelay: ..." line.
func logConfigError(err error, path string, logFlags func(config.Log) config.Log, stderr io.Writer) error {
	lc, lerr := config.LoadLog(path, os.Environ())
	if lerr != nil {
		return err
	}
	log, lerr := newLogger(logFlags(lc), stderr)
	if lerr != nil {
		return err
	}
	pipeline.LogExit(log, err)
	return loggedError{err}
}

// loggedError is an error that `walrelay run` already wrote to its log, as
// the "stopped" line (JSON with log.format json): realMain exits 1 without
// printing it again. Errors before the logger exists (flags, a config file
// that cannot be read or parsed, invalid log settings) are printed as a
// "walrelay: ..." line.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }
