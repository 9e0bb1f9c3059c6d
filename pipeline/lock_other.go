//go:build !unix

package pipeline

// lockDataDir does nothing where flock is not available.
func lockDataDir(dir string) (func(), error) { return func() {}, nil }
