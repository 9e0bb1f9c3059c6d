//go:build !unix

package pipeline

// LockFile is the file in data_dir that walrelay run holds locked (on Unix).
const LockFile = "walrelay.lock"

// lockDataDir does nothing where flock is not available.
func lockDataDir(dir string) (func(), error) { return func() {}, nil }
