package registry

import (
	"context"
	"os"
	"sort"
	"sync"

	"github.com/hamba/avro/v2"
)

// Store is the embedded schema registry: global schema IDs, subjects with
// their versions, and subject-level compatibility, persisted in one file
// under its directory after every change, each one appended to a log (see
// OpenStore). It is a Backend for Client and the state behind Server. Safe
// for concurrent use.
type Store struct {
	path    string   // snapshot (StoreFile)
	logPath string   // LogFile
	log     *os.File // LogFile, open for appending
	logSize int64    // LogFile's length: its complete lines
	broken  error    // set when a failed append could not be undone

	mu       sync.RWMutex
	level    Level            // global level: the configured one, or PUT /config until restart
	byID     map[int]*entry   // schema ID -> schema
	byCanon  map[[32]byte]int // fingerprint of the canonical text -> schema ID
	subjects map[string][]int // subject -> schema ID of version i+1
	config   map[string]Level // subject-level compatibility
	nextID   int
}

// entry is one registered schema. Only the schemas that are the latest
// version of a subject with more than one version (what a non-transitive
// check of a subject that evolves reads) stay parsed; the others are parsed
// again when asked for. So a subject with hundreds of versions of a wide
// record holds one parsed copy, not hundreds, and a table that never
// changed holds its schemas' text only: parsed, the Avro schemas of a
// four-column table took 26 KB of live heap, a 200-column one's 130 KB.
type entry struct {
	id     int
	text   string   // as first registered
	fp     [32]byte // fingerprint of the canonical text
	latest int      // how many subjects with 2+ versions have it as their latest
	schema avro.Schema
}

// parsed returns e's parsed schema, parsing its text again if it was
// dropped (nil only if that fails, which the open's check rules out).
func (e *entry) parsed() avro.Schema {
	if e.schema != nil {
		return e.schema
	}
	s, _ := Parse(e.text)
	return s
}

// keepEvolvingParsed counts, for each schema, the subjects with more than
// one version of which it is the latest, and parses those (see entry).
func (s *Store) keepEvolvingParsed() {
	for _, ids := range s.subjects {
		if len(ids) > 1 {
			e := s.byID[ids[len(ids)-1]]
			e.latest++
			e.schema = e.parsed()
		}
	}
}

var _ Backend = (*Store)(nil)

// Level returns the global compatibility level.
func (s *Store) Level() Level {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.level
}

// SetLevel changes the global level until the process restarts (the
// configured level is the global one at every start).
func (s *Store) SetLevel(l Level) {
	s.mu.Lock()
	s.level = l
	s.mu.Unlock()
}

// SubjectLevel implements Backend: the subject's own level, if set.
func (s *Store) SubjectLevel(_ context.Context, subject string) (Level, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.config[subject]
	return l, ok, nil
}

// SetSubjectLevel sets and persists a subject's level.
func (s *Store) SetSubjectLevel(subject string, l Level) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.config[subject]
	s.config[subject] = l
	if err := s.appendLocked(logRecord{Op: "config", Subject: subject, Level: l}); err != nil {
		if had {
			s.config[subject] = prev
		} else {
			delete(s.config, subject)
		}
		return err
	}
	return nil
}

// DeleteSubjectLevel removes a subject's own level, returning the one it
// had; the subject then follows the global level.
func (s *Store) DeleteSubjectLevel(subject string) (Level, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.config[subject]
	if !had {
		return "", errSubjectLevelNotSet(subject)
	}
	delete(s.config, subject)
	if err := s.appendLocked(logRecord{Op: "config", Subject: subject}); err != nil {
		s.config[subject] = prev
		return "", err
	}
	return prev, nil
}

// effectiveLevel is the subject's level, else the global one. Caller holds mu.
func (s *Store) effectiveLevelLocked(subject string) Level {
	if l, ok := s.config[subject]; ok {
		return l
	}
	return s.level
}

// SchemaByID returns the text of schema id, or a 40403 *Error.
func (s *Store) SchemaByID(id int) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byID[id]
	if !ok {
		return "", errSchemaIDNotFound(id)
	}
	return e.text, nil
}

// Subjects lists the subjects, sorted.
func (s *Store) Subjects() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.subjects))
	for k := range s.subjects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Versions lists a subject's version numbers, or a 40401 *Error.
func (s *Store) Versions(subject string) ([]int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, ok := s.subjects[subject]
	if !ok {
		return nil, errSubjectNotFound(subject)
	}
	out := make([]int, len(ids))
	for i := range ids {
		out[i] = i + 1
	}
	return out, nil
}

// Version returns version v of subject (-1: the latest), or a 40401/40402 *Error.
func (s *Store) Version(subject string, v int) (Version, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.versionLocked(subject, v)
}

func (s *Store) versionLocked(subject string, v int) (Version, error) {
	ids, ok := s.subjects[subject]
	if !ok {
		return Version{}, errSubjectNotFound(subject)
	}
	if v == -1 {
		v = len(ids)
	}
	if v < 1 || v > len(ids) {
		return Version{}, errVersionNotFound(v)
	}
	e := s.byID[ids[v-1]]
	return Version{Subject: subject, Version: v, ID: e.id, Text: e.text, Schema: e.parsed()}, nil
}

// History implements Backend: the subject's versions, oldest first (all of
// them, or only the latest when all is false); none for an unknown subject.
func (s *Store) History(_ context.Context, subject string, all bool) ([]Version, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.historyLocked(subject, all), nil
}

func (s *Store) historyLocked(subject string, all bool) []Version {
	ids := s.subjects[subject]
	first := 0
	if !all && len(ids) > 0 {
		first = len(ids) - 1
	}
	var out []Version
	for i := first; i < len(ids); i++ {
		e := s.byID[ids[i]]
		out = append(out, Version{Subject: subject, Version: i + 1, ID: e.id, Text: e.text, Schema: e.parsed()})
	}
	return out
}

// Latest returns the text of subject's latest version as it was registered
// (properties included); found is false for an unknown subject.
func (s *Store) Latest(_ context.Context, subject string) (string, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.subjects[subject]
	if len(ids) == 0 {
		return "", false, nil
	}
	return s.byID[ids[len(ids)-1]].text, true, nil
}

// LookupVersion finds text among subject's versions (POST /subjects/{s}),
// or returns a 40401/40403/42201 *Error.
func (s *Store) LookupVersion(subject, text string) (Version, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, err := s.lookupLocked(subject, text)
	if err != nil {
		return Version{}, err
	}
	return s.versionLocked(subject, v)
}

// lookupLocked returns the version of subject whose schema is text, or a
// 40401/40403/42201 *Error. It parses text only, not the stored schema.
func (s *Store) lookupLocked(subject, text string) (int, error) {
	canonical, _, err := prepare(text)
	if err != nil {
		return 0, err
	}
	ids, ok := s.subjects[subject]
	if !ok {
		return 0, errSubjectNotFound(subject)
	}
	id, ok := s.byCanon[fingerprint(canonical)]
	if !ok {
		return 0, errSchemaNotFound()
	}
	for i, x := range ids {
		if x == id {
			return i + 1, nil
		}
	}
	return 0, errSchemaNotFound()
}

// Lookup implements Backend. Unlike LookupVersion it does not parse the
// stored schema (the encoder looks up every subject once per process: a
// restart over thousands of tables parsed each stored schema again).
func (s *Store) Lookup(_ context.Context, subject, text string) (int, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, err := s.lookupLocked(subject, text)
	if e, ok := err.(*Error); ok && (e.Code == CodeSubjectNotFound || e.Code == CodeSchemaNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return s.subjects[subject][v-1], true, nil
}

// Register implements Backend (POST /subjects/{s}/versions): a schema
// already in the subject keeps its ID and version; a new one is checked
// against the subject's history with its effective level (an
// *IncompatibleError when it breaks), takes the ID an identical schema has
// in any subject or the next free one, becomes the subject's next version and
// is persisted before Register returns.
func (s *Store) Register(_ context.Context, subject, text string) (int, error) {
	canonical, schema, err := prepare(text)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fp := fingerprint(canonical)
	id, known := s.byCanon[fp]
	for _, x := range s.subjects[subject] {
		if known && x == id {
			return id, nil
		}
	}
	level := s.effectiveLevelLocked(subject)
	if err := Check(level, schema, s.historyLocked(subject, level.Transitive())); err != nil {
		if ie, ok := err.(*IncompatibleError); ok {
			ie.Subject = subject
		}
		return 0, err
	}
	return s.addLocked(subject, id, known, text, fp, schema)
}

// addLocked appends a version (and, when !known, a schema) and persists it
// as one log line, undoing both if the line cannot be written.
func (s *Store) addLocked(subject string, id int, known bool, text string, fp [32]byte, schema avro.Schema) (int, error) {
	rec := logRecord{Op: "register", Subject: subject}
	if !known {
		id = s.nextID
		s.nextID++
		s.byID[id] = &entry{id: id, text: text, fp: fp}
		s.byCanon[fp] = id
		rec.Schema = text
	}
	prev, had := s.subjects[subject]
	s.subjects[subject] = append(prev[:len(prev):len(prev)], id)
	rec.ID, rec.Version = id, len(prev)+1
	if err := s.appendLocked(rec); err != nil {
		if had {
			s.subjects[subject] = prev
		} else {
			delete(s.subjects, subject)
		}
		if !known {
			delete(s.byID, id)
			delete(s.byCanon, fp)
			s.nextID--
		}
		return 0, err
	}
	if len(prev) == 0 {
		return id, nil // a first version: kept parsed once the subject evolves
	}
	e := s.byID[id]
	e.latest++
	e.schema = schema
	if len(prev) > 1 {
		old := s.byID[prev[len(prev)-1]]
		if old.latest--; old.latest == 0 {
			old.schema = nil
		}
	}
	return id, nil
}

// CheckCompatibility checks text against version v of subject (-1: the
// latest; 0: the versions the subject's level names) under the subject's
// effective level, as POST /compatibility/subjects/{s}/versions[/{v}] does.
// It returns the problems found (none when compatible), or a
// 40401/40402/42201 *Error.
func (s *Store) CheckCompatibility(subject, text string, v int) ([]string, error) {
	_, schema, err := prepare(text)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	level := s.effectiveLevelLocked(subject)
	var history []Version
	if v == 0 {
		history = s.historyLocked(subject, true)
	} else {
		one, err := s.versionLocked(subject, v)
		if err != nil {
			return nil, err
		}
		history = []Version{one}
		level = Level(trimTransitive(level))
	}
	err = Check(level, schema, history)
	ie, ok := err.(*IncompatibleError)
	if !ok {
		return nil, err
	}
	msgs := make([]string, len(ie.Problems))
	for i, p := range ie.Problems {
		msgs[i] = p.String()
	}
	return msgs, nil
}

func trimTransitive(l Level) string {
	if l.Transitive() {
		return string(l[:len(l)-len("_TRANSITIVE")])
	}
	return string(l)
}
