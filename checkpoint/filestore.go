package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// FileName is the checkpoint file inside the data directory.
const FileName = "checkpoint.json"

// FileStore keeps the checkpoint in <dataDir>/checkpoint.json, written
// atomically: a temp file in the same directory, fsync, rename over the old
// file, fsync of the directory. A crash leaves either the old or the new file,
// never a torn one; a leftover temp file is ignored by Load and removed by
// NewFileStore.
type FileStore struct {
	dir  string
	path string
	slot string
	// systemID and database are recorded by Save (SetIdentity).
	systemID, database string
}

// SetIdentity implements Identified.
func (s *FileStore) SetIdentity(systemID, database string) {
	s.systemID, s.database = systemID, database
}

// fileRecord is the JSON form, e.g.
// {"lsn":"0/16B3748","slot":"walrelay","updated_at":"2024-05-01T10:00:00.123456789Z",
// "system_id":"7301234567890123456","database":"app"}; a file of an older
// walrelay lacks system_id and database.
type fileRecord struct {
	LSN       string       `json:"lsn"`
	Slot      string       `json:"slot"`
	UpdatedAt time.Time    `json:"updated_at"`
	Catchup   *catchupJSON `json:"catchup,omitempty"`
	SystemID  string       `json:"system_id,omitempty"`
	Database  string       `json:"database,omitempty"`
}

// NewFileStore returns the file store for slot in dataDir, creating dataDir
// (mode 0700) if it does not exist.
func NewFileStore(dataDir, slot string) (*FileStore, error) {
	if dataDir == "" {
		return nil, errors.New("checkpoint: file store needs a data directory: set data_dir")
	}
	if slot == "" {
		return nil, errors.New("checkpoint: file store needs a slot name: set postgres.slot")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint: create data directory %s: %w%s", dataDir, err, fileHint(err, dataDir))
	}
	return &FileStore{dir: dataDir, path: filepath.Join(dataDir, FileName), slot: slot}, nil
}

// Path returns the checkpoint file's path.
func (s *FileStore) Path() string { return s.path }

// Load reads the checkpoint file. It returns false when the file does not
// exist, and an error naming the file when it cannot be read, is not valid
// JSON, holds no valid LSN, or belongs to another slot.
func (s *FileStore) Load(ctx context.Context) (Position, bool, error) {
	if err := ctx.Err(); err != nil {
		return Position{}, false, err
	}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("checkpoint: read %s: %w%s", s.path, err, fileHint(err, s.dir))
	}
	var rec fileRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return Position{}, false, s.corrupt(fmt.Sprintf("not valid JSON (%v)", err))
	}
	lsn, ok := parseLSN(rec.LSN)
	if !ok {
		return Position{}, false, s.corrupt(fmt.Sprintf("lsn %q is not an LSN like \"0/16B3748\"", rec.LSN))
	}
	if rec.Slot != s.slot {
		return Position{}, false, fmt.Errorf("checkpoint: %s %w %q but the configured slot is %q: "+
			"set postgres.slot to %q, or use a separate data_dir per slot", s.path, ErrOtherSlot, rec.Slot, s.slot, rec.Slot)
	}
	c, err := rec.Catchup.catchup()
	if err != nil {
		return Position{}, false, s.corrupt(err.Error())
	}
	return Position{LSN: lsn, Slot: rec.Slot, UpdatedAt: rec.UpdatedAt, Catchup: c,
		SystemID: rec.SystemID, Database: rec.Database}, true, nil
}

// corrupt is the error for a checkpoint file that does not parse. What
// follows its removal is said as it is: with no checkpoint stored, a start
// on an existing slot takes a snapshot of every captured table (unless
// snapshot.mode is never) and the changes committed before its boundary
// are in that snapshot as read events, not published as change events.
func (s *FileStore) corrupt(what string) error {
	return fmt.Errorf("checkpoint: %s is %w: %s; %s", s.path, ErrCorrupt, what, CorruptFix(s.path))
}

// ErrCorrupt is wrapped by the error of a checkpoint that does not parse.
var ErrCorrupt = errors.New("corrupt")

// ErrOtherSlot is wrapped by the error of a checkpoint file of another slot.
var ErrOtherSlot = errors.New("belongs to slot")

// CorruptFix is the way out of a corrupt checkpoint at where (a file, or
// the row of a slot in TableName): for the corrupt-checkpoint errors and
// `walrelay check`'s fix line.
func CorruptFix(where string) string {
	return fmt.Sprintf("restore %s from a backup or fix its \"lsn\" field by hand to the last LSN walrelay published; "+
		"removing it makes walrelay start as on a new data_dir: it resumes from the slot's confirmed position "+
		"after a snapshot of every captured table (snapshot.mode initial), whose read events stand for the changes "+
		"committed before its boundary (those are not published as change events)", where)
}

// Save writes p atomically and durably. p.Slot may be empty (the store's slot
// is used) but must not name another slot.
func (s *FileStore) Save(ctx context.Context, p Position) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.Slot != "" && p.Slot != s.slot {
		return fmt.Errorf("checkpoint: save position for slot %q into %s, which belongs to slot %q", p.Slot, s.path, s.slot)
	}
	data, err := json.Marshal(fileRecord{LSN: p.LSN.String(), Slot: s.slot, UpdatedAt: p.UpdatedAt.UTC(), Catchup: p.Catchup.toJSON(),
		SystemID: s.systemID, Database: s.database})
	if err != nil {
		return fmt.Errorf("checkpoint: encode position %s: %w", p.LSN, err)
	}
	if err := s.writeAtomic(append(data, '\n')); err != nil {
		return fmt.Errorf("checkpoint: save LSN %s to %s: %w%s", p.LSN, s.path, err, fileHint(err, s.dir))
	}
	return nil
}

// writeAtomic writes data to a temp file, syncs it, renames it over the
// checkpoint file and syncs the directory so the rename survives a crash.
func (s *FileStore) writeAtomic(data []byte) (err error) {
	f, err := os.CreateTemp(s.dir, FileName+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, s.path); err != nil {
		return err
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// RemoveTemps deletes temp files a crash left behind; failures are harmless
// because Load never reads them. Only the process that saves (walrelay run)
// may call it: a reader such as walrelay status would delete the running
// process's file in the middle of its save.
func (s *FileStore) RemoveTemps() {
	matches, _ := filepath.Glob(filepath.Join(s.dir, FileName+".tmp-*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

// Close does nothing; FileStore holds no open files between calls.
func (s *FileStore) Close() error { return nil }

// fileHint says what an operator can do about common file-system errors.
func fileHint(err error, dir string) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf(" (check that the user running walrelay owns %s and may write to it, mode 0700)", dir)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Sprintf(" (the disk holding %s is full: free space or move data_dir)", dir)
	case errors.Is(err, syscall.EROFS):
		return fmt.Sprintf(" (%s is on a read-only file system: move data_dir to a writable one)", dir)
	}
	return ""
}
