package pipeline

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/walrelay/walrelay/event"
)

// catchupKeysFile is where a blocking catch-up's key set is kept in the
// data directory until the stream passes its boundary, so that a restart
// in between still publishes the deletes it must.
const catchupKeysFile = "catchup-keys"

// keysHeader is the file's first line (JSON); the sorted hashes follow as
// little-endian uint64s.
type keysHeader struct {
	Boundary string `json:"boundary"`
	Count    int    `json:"count"`
}

// save writes the set for the catch-up at boundary into dir, atomically
// (temporary file, fsync, rename). Called once the snapshot is complete,
// before the boundary is stored.
func (k *catchupKeys) save(dir string, boundary event.LSN) error {
	hdr, err := json.Marshal(keysHeader{Boundary: boundary.String(), Count: len(k.hashes)})
	if err != nil {
		return err
	}
	return writeDataFile(dir, catchupKeysFile, func(w io.Writer) error {
		if _, err := w.Write(append(hdr, '\n')); err != nil {
			return err
		}
		var b [8]byte
		for _, h := range k.hashes {
			binary.LittleEndian.PutUint64(b[:], h)
			if _, err := w.Write(b[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadCatchupKeys reads the set saved for the catch-up at boundary from
// dir; an error if there is none or it belongs to another catch-up.
func loadCatchupKeys(dir string, boundary event.LSN) (*catchupKeys, error) {
	path := filepath.Join(dir, catchupKeysFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var hdr keysHeader
	if err := json.Unmarshal(line, &hdr); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if hdr.Boundary != boundary.String() {
		return nil, fmt.Errorf("%s belongs to the catch-up at %s, not %s", path, hdr.Boundary, boundary)
	}
	k := &catchupKeys{hashes: make([]uint64, hdr.Count)}
	var b [8]byte
	for i := range k.hashes {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		k.hashes[i] = binary.LittleEndian.Uint64(b[:])
	}
	return k, nil
}

// removeCatchupKeys deletes the saved set, if any.
func removeCatchupKeys(dir string) error {
	err := os.Remove(filepath.Join(dir, catchupKeysFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
