package pipeline

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeDataFile replaces dir/name atomically with what write writes: into
// a temporary file beside it (buffered), fsynced, then renamed over it, so
// a crash leaves either the old file or the new one, never a torn one. The
// temporary file is removed on failure. For the files walrelay keeps in
// its data directory beside the checkpoint (catchup-keys,
// column-lineage.json, captured-tables.json).
func writeDataFile(dir, name string, write func(w io.Writer) error) error {
	path := filepath.Join(dir, name)
	f, err := os.CreateTemp(dir, name+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(f.Name()) //nolint:errcheck // gone after the rename
	w := bufio.NewWriterSize(f, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
