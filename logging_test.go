package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/config"
)

// TestConsoleLogNoColourInFiles: log.format console writes plain text, with
// no ANSI escape codes, to a file, a pipe or a buffer (only a terminal gets
// colour).
func TestConsoleLogNoColourInFiles(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "walrelay.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var buf bytes.Buffer
	for name, w := range map[string]interface{ Write([]byte) (int, error) }{"file": f, "pipe": pw, "buffer": &buf} {
		log, err := newLogger(config.Log{Level: "info", Format: "console"}, w)
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Str("slot", "s").Msg("streaming")
		if name == "pipe" {
			pw.Close()
		}
	}
	fileOut, _ := os.ReadFile(f.Name())
	pipeOut := make([]byte, 4096)
	n, _ := pr.Read(pipeOut)
	for name, out := range map[string]string{"file": string(fileOut), "pipe": string(pipeOut[:n]), "buffer": buf.String()} {
		if !strings.Contains(out, "streaming") || strings.Contains(out, "\x1b[") {
			t.Errorf("console log to a %s: %q, want plain text", name, out)
		}
	}
}
