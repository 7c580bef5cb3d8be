package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/seattletestbed/seattle-installer/native/atomicfile"
)

// Record is one build as a Store holds it.
type Record struct {
	ID           string
	Vesselinfo   []byte    // normalized text; ID is its hash
	Created      time.Time // zero when the store does not keep it
	LastDownload time.Time // zero when never downloaded, or not kept
	// Keys are the public keys ("e n") by user name, for builds made
	// through the XML-RPC API, which names users; empty for uploads.
	Keys map[string]string
}

// Store holds the build records. Archives are not in it: every server
// rebuilds them from the record into its own cache, byte for byte the same.
// Two implementations: DirStore, files in one machine's data directory, and
// the PostgreSQL store (OpenPostgres) that any number of servers share.
type Store interface {
	// Put stores a build unless one with its ID is stored already (the
	// same ID is the same text); created says whether it was new.
	Put(ctx context.Context, id string, vesselinfo []byte) (created bool, err error)
	// Get returns a build, or an error wrapping ErrNoBuild.
	Get(ctx context.Context, id string) (Record, error)
	// SetKeys adds public keys by user name to a stored build (a name
	// given again gets the newer key).
	SetKeys(ctx context.Context, id string, keys map[string]string) error
	// Downloaded notes that a build was downloaded at t.
	Downloaded(ctx context.Context, id string, t time.Time) error
	// Close releases the store's connections.
	Close()
}

// ErrNoBuild means no build has the ID asked for.
var ErrNoBuild = errors.New("no build with this ID")

// DirStore is the embedded store: one folder per build in a directory.
//
//	DIR/ID/vesselinfo   the normalized text; the build exists once this does
//	DIR/ID/keys.json    the public keys by user name, when there are any
//
// Each file is written through atomicfile, so a crash never leaves one that
// looks complete but is not.
type DirStore struct {
	dir string
	mu  sync.Mutex // SetKeys reads, merges and writes
}

// NewDirStore opens (creating) the store in dir.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

func (d *DirStore) path(id string) string { return filepath.Join(d.dir, id, entryVesselinfo) }

// Put implements Store.
func (d *DirStore) Put(_ context.Context, id string, text []byte) (bool, error) {
	if !validID(id) {
		return false, fmt.Errorf("put %q: not a build ID", id)
	}
	path := d.path(id)
	if ok, err := exists(path); err != nil || ok {
		return false, err
	}
	if err := atomicfile.WriteFile(path, text, 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// Get implements Store.
func (d *DirStore) Get(_ context.Context, id string) (Record, error) {
	if !validID(id) {
		return Record{}, ErrNoBuild
	}
	text, err := os.ReadFile(d.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, ErrNoBuild
	}
	if err != nil {
		return Record{}, err
	}
	rec := Record{ID: id, Vesselinfo: text, Keys: map[string]string{}}
	if b, err := os.ReadFile(filepath.Join(d.dir, id, keysFile)); err == nil {
		if err := json.Unmarshal(b, &rec.Keys); err != nil {
			return Record{}, fmt.Errorf("build %s: %s: %w", id, keysFile, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Record{}, err
	}
	return rec, nil
}

// keysFile holds a build's keys in the embedded store.
const keysFile = "keys.json"

// SetKeys implements Store.
func (d *DirStore) SetKeys(ctx context.Context, id string, keys map[string]string) error {
	if len(keys) == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, err := d.Get(ctx, id)
	if err != nil {
		return err
	}
	changed := false
	for n, k := range keys {
		if rec.Keys[n] != k {
			rec.Keys[n], changed = k, true
		}
	}
	if !changed {
		// The same call again (a client retrying, a donor reloading): no
		// write, and no fsync on the way of every repeated call.
		return nil
	}
	b, err := json.Marshal(rec.Keys)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(d.dir, id, keysFile), b, 0o644)
}

// Downloaded implements Store; the embedded store does not keep the time.
func (d *DirStore) Downloaded(context.Context, string, time.Time) error { return nil }

// Close implements Store.
func (d *DirStore) Close() {}

// removeCrashLeftovers deletes the temporary files a crash left in the
// build folders of dir. The data directory is locked by this server (see
// lockDir), so no other writer can be making them right now.
func removeCrashLeftovers(dir string) (removed int) {
	for _, pattern := range []string{filepath.Join(dir, "*", ".*"), filepath.Join(dir, ".*")} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			if !atomicfile.IsTemp(filepath.Base(p)) {
				continue
			}
			if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() && os.Remove(p) == nil {
				removed++
			}
		}
	}
	return removed
}

// removeOldArchives deletes archives that servers before the bounded cache
// kept in the build folders (DIR/ID/PLATFORM-DIGEST.tar.gz or .zip): the
// cache does not count them, and they can be built again.
func removeOldArchives(dir string) (removed int, bytes int64) {
	for _, ext := range []string{".tar.gz", ".zip"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*", "*"+ext))
		for _, p := range paths {
			if !validID(filepath.Base(filepath.Dir(p))) {
				continue
			}
			if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() && os.Remove(p) == nil {
				removed++
				bytes += st.Size()
			}
		}
	}
	return removed, bytes
}

// exists reports whether path is a regular file.
func exists(path string) (bool, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil:
		return st.Mode().IsRegular(), nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}
