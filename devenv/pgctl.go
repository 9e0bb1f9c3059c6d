package devenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// pgStartAttempts bounds how often Start picks a new port after another
// process took the one it chose.
const pgStartAttempts = 5

// init runs initdb and writes the configuration files.
func (p *Postgres) init(ctx context.Context) error {
	if err := p.run.checkReachable(p.root); err != nil {
		return err
	}
	if err := p.run.chownTree(p.root); err != nil {
		return fmt.Errorf("devenv: give %s to user %s: %w", p.root, p.run.name, err)
	}
	out, err := p.run.command(ctx, p.root, filepath.Join(p.binDir, "initdb"),
		"-D", p.DataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("devenv: initdb %s: %w\n%s", p.DataDir(), err, tail(out, 2000))
	}
	hba := "local all all trust\nlocal replication all trust\n" +
		"host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
	if err := p.writeOwned(filepath.Join(p.DataDir(), "pg_hba.conf"), hba); err != nil {
		return err
	}
	conf := filepath.Join(p.DataDir(), "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("devenv: open %s: %w", conf, err)
	}
	_, err = f.WriteString("\n# walrelay devenv settings\ninclude 'devenv.conf'\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("devenv: write %s: %w", conf, err)
	}
	p.log.Info().Str("dir", p.root).Str("bin_dir", p.binDir).Str("user", p.run.name).Msg("postgres cluster initialised")
	return nil
}

// startLocked picks a port if needed, writes the configuration and runs
// pg_ctl start, retrying on a new port when the chosen one was taken.
// Callers hold p.mu.
func (p *Postgres) startLocked(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < pgStartAttempts; attempt++ {
		if p.port == 0 {
			if p.port, err = FreePort(); err != nil {
				return err
			}
		}
		if err = p.writeConf(); err != nil {
			return err
		}
		_, err = p.pgctl(ctx, "start", "-D", p.DataDir(), "-l", p.LogPath(), "-w", "-t", "120", "-s")
		if err == nil {
			p.running = true
			p.log.Info().Str("port", p.portString()).Str("dir", p.root).Msg("postgres started")
			return nil
		}
		logTail := p.logTail()
		err = fmt.Errorf("devenv: start postgres on 127.0.0.1:%d: %w\nserver log %s (tail):\n%s",
			p.port, err, p.LogPath(), logTail)
		if !p.autoPort || !strings.Contains(logTail, "could not bind") {
			return err
		}
		p.port = 0 // taken by someone else: pick another
	}
	return err
}

// stopLocked runs pg_ctl stop -m mode. Callers hold p.mu.
func (p *Postgres) stopLocked(mode string) error {
	if mode == "" {
		mode = "fast"
	}
	switch mode {
	case "fast", "immediate", "smart":
	default:
		return fmt.Errorf("devenv: stop postgres: mode %q is not fast, immediate or smart", mode)
	}
	if !p.running {
		return nil
	}
	if _, err := p.pgctl(context.Background(), "stop", "-D", p.DataDir(), "-m", mode, "-w", "-t", "120", "-s"); err != nil {
		return fmt.Errorf("devenv: stop postgres (-m %s) on port %d: %w\nserver log tail:\n%s", mode, p.port, err, p.logTail())
	}
	p.running = false
	p.log.Info().Str("port", p.portString()).Str("mode", mode).Msg("postgres stopped")
	return nil
}

// pgctl runs pg_ctl with a bounded time and returns its output; the error
// includes the output.
func (p *Postgres) pgctl(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	out, err := p.run.command(ctx, p.root, filepath.Join(p.binDir, "pg_ctl"), args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("pg_ctl %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// writeConf writes devenv.conf (included by postgresql.conf) from the
// current settings and port, sorted so the file is stable.
func (p *Postgres) writeConf() error {
	keys := make([]string, 0, len(p.settings))
	for k := range p.settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "port = %d\n", p.port)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(p.settings[k], "'", "''"))
	}
	return p.writeOwned(filepath.Join(p.DataDir(), "devenv.conf"), b.String())
}

// writeOwned writes a file in the data directory readable by the server.
func (p *Postgres) writeOwned(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("devenv: write %s: %w", path, err)
	}
	if p.run.name != "" {
		if err := os.Chown(path, int(p.run.uid), int(p.run.gid)); err != nil {
			return fmt.Errorf("devenv: chown %s: %w", path, err)
		}
	}
	return nil
}

// logTail returns the last few KB of the server log.
func (p *Postgres) logTail() string {
	b, err := os.ReadFile(p.LogPath())
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}
	return tail(b, 3000)
}

// tail returns at most the last n bytes of b as a string.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
