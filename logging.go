package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
)

// newLogger builds the process logger: JSON lines, or console output for
// people. Console output is coloured only when w is a terminal (and NO_COLOR
// is not set): a file or a pipe gets plain text, without escape codes.
func newLogger(c config.Log, w io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("log.level %q: %w", c.Level, err)
	}
	if c.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !colourful(w)}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}

// colourful reports whether console output to w may use colour: w is a
// terminal (a character device) and the NO_COLOR convention is not in force.
func colourful(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
