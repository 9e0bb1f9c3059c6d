package pipeline

// LockFile is the file in data_dir that walrelay run holds locked (flock, on
// Unix), so that two processes never share a data_dir; see lockDataDir.
const LockFile = "walrelay.lock"
