package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StoreFile is the embedded registry's snapshot file inside its directory:
// the whole state as of the last compaction (the only file walrelay before
// the log wrote; such a file is read as is, its IDs kept).
const StoreFile = "schemas.json"

// LogFile is the embedded registry's append-only log inside its directory:
// one JSON line per registration or subject-level change since the
// snapshot, each synced to disk before the change is acknowledged.
const LogFile = "schemas.log"

// fileState is the persisted form of a Store. A subject's version i+1 is
// Subjects[subject][i]; versions are never deleted, so numbers stay stable.
type fileState struct {
	Format   int              `json:"format"`
	Schemas  []fileSchema     `json:"schemas"`
	Subjects map[string][]int `json:"subjects"`
	Config   map[string]Level `json:"config,omitempty"`
}

type fileSchema struct {
	ID     int    `json:"id"`
	Schema string `json:"schema"`
}

// logRecord is one line of LogFile. Op "register" makes schema ID version
// Version of Subject, Schema being the text when the ID is new; op "config"
// sets Subject's level, or removes it when Level is empty. Replaying a
// record already in the snapshot changes nothing.
type logRecord struct {
	Op      string `json:"op"`
	Subject string `json:"subject"`
	Version int    `json:"version,omitempty"`
	ID      int    `json:"id,omitempty"`
	Schema  string `json:"schema,omitempty"`
	Level   Level  `json:"level,omitempty"`
}

// compactMin is the log size below which OpenStore leaves the log as it is.
const compactMin = 1 << 20

// OpenStore opens (creating it if needed) the embedded registry persisted
// in dir: the snapshot dir/schemas.json, then the log dir/schemas.log
// replayed over it. When the log is at least compactMin and a quarter of the
// snapshot, it is compacted: a new snapshot replaces the old one and the log
// is emptied, so a start reads each schema about once. level is the global
// compatibility level, normally schema_registry.compatibility.
//
// A last log line without its newline is a registration a crash cut short,
// never acknowledged: it is ignored and cut off. Any other unreadable or
// corrupt content is an error: IDs already written to Kafka must never be
// reassigned.
func OpenStore(dir string, level Level) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("schema registry: create %s: %w", dir, err)
	}
	if err := private(dir); err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	s := &Store{
		path: filepath.Join(dir, StoreFile), logPath: filepath.Join(dir, LogFile), level: level,
		byID: map[int]*entry{}, byCanon: map[[32]byte]int{}, subjects: map[string][]int{},
		config: map[string]Level{}, nextID: 1,
	}
	snap, err := s.readSnapshot()
	if err != nil {
		return nil, err
	}
	logLen, err := s.replayLog()
	if err != nil {
		return nil, err
	}
	s.keepEvolvingParsed()
	if logLen >= compactMin && logLen >= snap/4 {
		if err := s.compact(); err != nil {
			return nil, err
		}
		logLen = 0
	}
	if err := s.openLog(logLen); err != nil {
		return nil, err
	}
	return s, nil
}

// corrupt is the error of a damaged registry file; cause, when not empty,
// is what most likely damaged it (olderWriterCause).
func corrupt(path string, err error, cause string) error {
	if cause != "" {
		cause += "; "
	}
	return fmt.Errorf("schema registry: %s is corrupt (%w); %srestore the registry directory from a backup: "+
		"the schema IDs in it are referenced by records already in Kafka", path, err, cause)
}

// readSnapshot loads the snapshot, if any, and returns its size.
func (s *Store) readSnapshot() (int64, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("schema registry: read %s: %w", s.path, err)
	}
	if err := s.load(b); err != nil {
		return 0, corrupt(s.path, err, "")
	}
	return int64(len(b)), nil
}

// load fills an empty Store from the snapshot's bytes.
func (s *Store) load(b []byte) error {
	var st fileState
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	for _, fs := range st.Schemas {
		if err := s.addSchema(fs.ID, fs.Schema); err != nil {
			return err
		}
	}
	for subject, ids := range st.Subjects {
		for _, id := range ids {
			if s.byID[id] == nil {
				return fmt.Errorf("subject %q refers to unknown schema id %d", subject, id)
			}
		}
		s.subjects[subject] = ids
	}
	for subject, l := range st.Config {
		pl, err := ParseLevel(string(l))
		if err != nil {
			return fmt.Errorf("subject %q: %w", subject, err)
		}
		s.config[subject] = pl
	}
	return nil
}

// addSchema adds a persisted schema; one already there with the same text
// (a log record replayed over the snapshot that holds it) is no change.
func (s *Store) addSchema(id int, text string) error {
	if e := s.byID[id]; e != nil && e.text == text {
		return nil
	}
	canonical, _, err := prepare(text) // parsed again if kept (keepEvolvingParsed)
	if err != nil {
		return fmt.Errorf("schema id %d: %w", id, err)
	}
	if id < 1 || s.byID[id] != nil {
		return fmt.Errorf("schema id %d is invalid or repeated", id)
	}
	fp := fingerprint(canonical)
	s.byID[id] = &entry{id: id, text: text, fp: fp}
	s.byCanon[fp] = id
	s.nextID = max(s.nextID, id+1)
	return nil
}

// replayLog applies the log's complete lines and returns the length they
// take; a torn last line is cut off (see OpenStore).
func (s *Store) replayLog() (int64, error) {
	b, err := os.ReadFile(s.logPath)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("schema registry: read %s: %w", s.logPath, err)
	}
	complete := bytes.LastIndexByte(b, '\n') + 1
	for line, rest := 1, b[:complete]; len(rest) > 0; line++ {
		i := bytes.IndexByte(rest, '\n')
		if err := s.apply(rest[:i]); err != nil {
			cause := olderWriterCause(s.path, s.logPath, b[:complete])
			return 0, corrupt(s.logPath, fmt.Errorf("line %d: %w", line, err), cause)
		}
		rest = rest[i+1:]
	}
	if complete < len(b) {
		if err := truncateSync(s.logPath, int64(complete)); err != nil {
			return 0, fmt.Errorf("schema registry: cut the torn last line of %s: %w", s.logPath, err)
		}
	}
	return int64(complete), nil
}

// apply replays one log line.
func (s *Store) apply(line []byte) error {
	var r logRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return err
	}
	switch r.Op {
	case "config":
		if r.Level == "" {
			delete(s.config, r.Subject)
			return nil
		}
		l, err := ParseLevel(string(r.Level))
		if err != nil {
			return fmt.Errorf("subject %q: %w", r.Subject, err)
		}
		s.config[r.Subject] = l
		return nil
	case "register":
		if r.Schema != "" {
			if err := s.addSchema(r.ID, r.Schema); err != nil {
				return err
			}
		}
		if s.byID[r.ID] == nil {
			return fmt.Errorf("subject %q refers to unknown schema id %d", r.Subject, r.ID)
		}
		ids := s.subjects[r.Subject]
		switch {
		case r.Version == len(ids)+1:
			s.subjects[r.Subject] = append(ids, r.ID)
		case r.Version < 1 || r.Version > len(ids) || ids[r.Version-1] != r.ID:
			return fmt.Errorf("subject %q version %d (schema id %d) does not follow its versions %v", r.Subject, r.Version, r.ID, ids)
		}
		return nil
	}
	return fmt.Errorf("unknown op %q", r.Op)
}

// compact writes the whole state as a new snapshot, then empties the log: a
// crash in between leaves a log whose records the snapshot already holds.
func (s *Store) compact() error {
	st := fileState{Format: 1, Subjects: s.subjects, Config: s.config}
	for id := 1; id < s.nextID; id++ {
		if e := s.byID[id]; e != nil {
			st.Schemas = append(st.Schemas, fileSchema{ID: id, Schema: e.text})
		}
	}
	b, err := json.Marshal(st)
	if err == nil {
		err = writeFileSync(s.path, b)
	}
	if err == nil {
		err = truncateSync(s.logPath, 0)
	}
	if err != nil {
		return fmt.Errorf("schema registry: compact %s into %s: %w", s.logPath, s.path, err)
	}
	return nil
}

// openLog opens the log for appending (creating it 0600 and syncing the
// directory when new); size is its length.
func (s *Store) openLog(size int64) error {
	_, statErr := os.Stat(s.logPath)
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil && statErr != nil {
		err = syncDir(filepath.Dir(s.logPath))
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return fmt.Errorf("schema registry: open %s: %w", s.logPath, err)
	}
	s.log, s.logSize = f, size
	return nil
}

// appendLocked writes r as one log line and syncs it. On failure the line
// is cut off again, so the log never holds a half line before a later one;
// if even that fails, the store refuses further changes until a restart.
// Caller holds mu for writing.
func (s *Store) appendLocked(r logRecord) error {
	if s.broken != nil {
		return s.broken
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = s.log.Write(b)
	if err == nil {
		err = s.log.Sync()
	}
	if err == nil {
		s.logSize += int64(len(b))
		return nil
	}
	err = fmt.Errorf("schema registry: persist to %s: %w", s.logPath, err)
	if terr := s.log.Truncate(s.logSize); terr != nil {
		s.broken = fmt.Errorf("%w; cutting the partial line failed too (%v): restart walrelay, which ignores it", err, terr)
		return s.broken
	}
	return err
}

// private makes dir, the registry's directory, 0700 like the rest of
// data_dir (it was 0755 before): only the user running walrelay may list or
// read the schemas, whatever the umask or the mode an older walrelay left.
func private(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("make %s private (chmod 0700): %w", dir, err)
	}
	return nil
}

// truncateSync cuts path to size and syncs it.
func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFileSync replaces path with b durably (write, sync, rename, sync the
// directory); the file is 0600, only the user running walrelay reads it.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // a .tmp left by an older walrelay keeps its mode
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir syncs a directory, making a file created or renamed in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
