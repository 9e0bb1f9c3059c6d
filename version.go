package main

import (
	"runtime/debug"
	"strings"
	"time"
)

// versionLine returns what `walrelay version` prints (without the newline):
// "walrelay <version>", then, when the binary records them, the commit it was
// built from and that commit's time (UTC), so a user can tell which side of
// README's "before <commit> (<time>)" upgrade notes their binary is on.
// `go build` in a git checkout records them; `go run`, `go build
// -buildvcs=false` and a build from a tree without .git do not, and then the
// line says the commit is unknown.
func versionLine() string {
	var settings []debug.BuildSetting
	if info, ok := debug.ReadBuildInfo(); ok {
		settings = info.Settings
	}
	return describeVersion(version, settings)
}

// describeVersion formats the version line from the build settings
// debug.ReadBuildInfo reports (vcs.revision, vcs.time, vcs.modified); it
// prints what there is of them.
func describeVersion(v string, settings []debug.BuildSetting) string {
	var rev, at string
	modified := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "walrelay " + v + " (commit unknown: built without git metadata, e.g. by go run or from a tree without .git)"
	}
	var b strings.Builder
	b.WriteString("walrelay " + v + " (commit " + shortRevision(rev))
	if at != "" {
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			at = t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		b.WriteString(" of " + at)
	}
	if modified {
		b.WriteString(", with uncommitted changes")
	}
	b.WriteString(")")
	return b.String()
}

// shortRevision returns rev's first 12 characters: a prefix of the full
// hash that `git log` and README's 7-character hashes are prefixes of too.
func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
