package builder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The data directory holds one folder per build:
//
//	DATA/ID/vesselinfo                       the normalized text; the build exists once this does
//	DATA/ID/PLATFORM-DIGEST.tar.gz (or .zip) an archive, made on first download
//
// DIGEST names the base installers and layout the archive was made from
// (recipe.digest), so new base installers never serve a stale archive. Every
// file is written to a temporary name in the same folder, synced and renamed,
// so a crash never leaves a file that looks complete but is not.

// vesselinfoPath is where a build's vesselinfo is stored. id must have passed
// validID.
func (s *Server) vesselinfoPath(id string) string {
	return filepath.Join(s.cfg.DataDir, id, entryVesselinfo)
}

func (s *Server) archivePath(id string, r *recipe) string {
	return filepath.Join(s.cfg.DataDir, id, string(r.platform)+"-"+r.digest+r.platform.ArchiveExt())
}

// writeAtomic writes path through a temporary file in the same folder: the
// file appears complete or not at all. write fills the temporary file.
func writeAtomic(path string, write func(f *os.File) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// staleAfter is the age at which a temporary file is surely left over from a
// crash: writing one takes well under a second.
const staleAfter = time.Hour

// removeStale deletes temporary files that a crash left in the build folders.
// Fresh ones are left alone: another server may share the data directory and
// be writing them right now.
func removeStale(data string, now time.Time) (removed int) {
	paths, _ := filepath.Glob(filepath.Join(data, "*", ".*.tmp-*"))
	for _, p := range paths {
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() && now.Sub(st.ModTime()) > staleAfter {
			if os.Remove(p) == nil {
				removed++
			}
		}
	}
	return removed
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

// flight runs one function per key at a time; callers that arrive while it
// runs wait for it and share its result. It is what keeps a hundred first
// downloads of one archive from building it a hundred times.
type flight struct {
	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done chan struct{}
	err  error
}

// do runs fn for key unless a run for key is in progress, in which case it
// waits for that run and returns its error.
func (g *flight) do(key string, fn func() error) error {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*call{}
	}
	if c, ok := g.calls[key]; ok {
		g.mu.Unlock()
		<-c.done
		return c.err
	}
	c := &call{done: make(chan struct{})}
	g.calls[key] = c
	g.mu.Unlock()

	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.err = fn()
	return c.err
}
