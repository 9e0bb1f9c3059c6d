package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StoreFile is the embedded registry's file inside its directory.
const StoreFile = "schemas.json"

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

// OpenStore opens (creating it if needed) the embedded registry persisted
// in dir/schemas.json. level is the global compatibility level, normally
// schema_registry.compatibility. An unreadable or corrupt file is an error:
// IDs already written to Kafka must never be reassigned.
func OpenStore(dir string, level Level) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("schema registry: create %s: %w", dir, err)
	}
	if err := private(dir); err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	s := &Store{
		path: filepath.Join(dir, StoreFile), level: level,
		byID: map[int]*entry{}, byCanon: map[string]int{}, subjects: map[string][]int{},
		config: map[string]Level{}, nextID: 1,
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("schema registry: read %s: %w", s.path, err)
	}
	if err := s.load(b); err != nil {
		return nil, fmt.Errorf("schema registry: %s is corrupt (%w); restore it from a backup: "+
			"the schema IDs in it are referenced by records already in Kafka", s.path, err)
	}
	return s, nil
}

// load fills an empty Store from the file's bytes.
func (s *Store) load(b []byte) error {
	var st fileState
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	for _, fs := range st.Schemas {
		canonical, schema, err := prepare(fs.Schema)
		if err != nil {
			return fmt.Errorf("schema id %d: %w", fs.ID, err)
		}
		if fs.ID < 1 || s.byID[fs.ID] != nil {
			return fmt.Errorf("schema id %d is invalid or repeated", fs.ID)
		}
		s.byID[fs.ID] = &entry{id: fs.ID, text: fs.Schema, canonical: canonical, schema: schema}
		s.byCanon[canonical] = fs.ID
		s.nextID = max(s.nextID, fs.ID+1)
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

// saveLocked writes the whole state to a temporary file, syncs it and
// renames it over the store file, then syncs the directory, so a crash
// leaves either the old or the new state. Caller holds mu for writing.
func (s *Store) saveLocked() error {
	st := fileState{Format: 1, Subjects: s.subjects, Config: s.config}
	for id := 1; id < s.nextID; id++ {
		if e := s.byID[id]; e != nil {
			st.Schemas = append(st.Schemas, fileSchema{ID: id, Schema: e.text})
		}
	}
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	if err := writeFileSync(s.path, b); err != nil {
		return fmt.Errorf("schema registry: persist %s: %w", s.path, err)
	}
	return nil
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
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
