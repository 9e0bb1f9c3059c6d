package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// NewFileReader returns the file store for slot in dataDir without creating
// dataDir: for `walrelay check` and `walrelay status`. Load reports nothing
// stored while dataDir or the file is missing; Save fails.
func NewFileReader(dataDir, slot string) (Store, error) {
	if dataDir == "" {
		return nil, errors.New("checkpoint: file store needs a data directory: set data_dir")
	}
	if slot == "" {
		return nil, errors.New("checkpoint: file store needs a slot name: set postgres.slot")
	}
	return fileReader{&FileStore{dir: dataDir, path: filepath.Join(dataDir, FileName), slot: slot}}, nil
}

// fileReader is a FileStore that refuses to save.
type fileReader struct{ *FileStore }

// Save fails: the store was opened to read.
func (r fileReader) Save(_ context.Context, p Position) error {
	return fmt.Errorf("checkpoint: LSN %s not saved to %s: the store was opened read-only", p.LSN, r.path)
}
