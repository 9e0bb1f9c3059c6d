package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// The version line names the commit and its time (UTC) when the build
// recorded them, and prints what there is otherwise: README's upgrade notes
// name commits, which a user compares with this line.
func TestDescribeVersion(t *testing.T) {
	t.Parallel()
	rev := "1ebd47eb42a74813494e65878e56f33c1a99b09b"
	set := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	cases := []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"commit and time", set("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-11-28T08:02:44Z", "vcs.modified", "false"),
			"walrelay 1.2.3 (commit 1ebd47eb42a7 of 2026-11-28 08:02:44 UTC)"},
		{"time in another zone", set("vcs.revision", rev, "vcs.time", "2026-11-28T09:02:44+01:00"),
			"walrelay 1.2.3 (commit 1ebd47eb42a7 of 2026-11-28 08:02:44 UTC)"},
		{"uncommitted changes", set("vcs.revision", rev, "vcs.time", "2026-11-28T08:02:44Z", "vcs.modified", "true"),
			"walrelay 1.2.3 (commit 1ebd47eb42a7 of 2026-11-28 08:02:44 UTC, with uncommitted changes)"},
		{"commit only", set("vcs.revision", rev),
			"walrelay 1.2.3 (commit 1ebd47eb42a7)"},
		{"nothing recorded", set("GOOS", "linux"),
			"walrelay 1.2.3 (commit unknown: built without git metadata, e.g. by go run or from a tree without .git)"},
	}
	for _, c := range cases {
		if got := describeVersion("1.2.3", c.settings); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// `walrelay version` prints the version line, commit included when known.
func TestVersionCommandPrintsCommit(t *testing.T) {
	code, out, _ := runMain(t, "version")
	if code != 0 || out != versionLine()+"\n" || !strings.Contains(out, "(commit ") {
		t.Errorf("version: code %d, out %q, want %q", code, out, versionLine()+"\n")
	}
}

// A binary built with `go build` in a git checkout (README's way; Go's
// default -buildvcs=auto) names the checkout's HEAD commit and its time.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds walrelay")
	}
	git := func(args ...string) string {
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			t.Skipf("not in a git checkout (git %v: %v)", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	if fi, err := os.Stat(filepath.Join(git("rev-parse", "--show-toplevel"), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a git worktree (.git is a file): go build records no commit there")
	}
	head := git("rev-parse", "HEAD")
	when, err := time.Parse(time.RFC3339, git("log", "-1", "--format=%cI", "HEAD"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "walrelay")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("walrelay version: %v", err)
	}
	want := "(commit " + head[:12] + " of " + when.UTC().Format("2006-01-02 15:04:05 UTC")
	if !strings.Contains(string(out), want) {
		t.Errorf("walrelay version printed %q, want it to contain %q", out, want)
	}
}
