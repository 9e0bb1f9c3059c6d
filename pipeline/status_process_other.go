//go:build !unix

package pipeline

// lockFileID: no flock and no /proc/locks here.
func lockFileID(string) (fileID, bool) { return fileID{}, false }

// pidAlive cannot check a process here.
func pidAlive(int) ProcessState { return ProcessUnknown }
