package builder

import (
	"container/list"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/seattletestbed/seattle-installer/native/atomicfile"
)

// DefaultCacheMax is the default bound of the archive cache on disk.
const DefaultCacheMax = 2 << 30

// cache holds built archives in one folder, DATA/cache, as
// ID-PLATFORM-DIGEST.tar.gz (or .zip), and keeps their total size at most
// max by removing the least recently used: an archive can always be built
// again from its record. DIGEST names the base installers and layout the
// archive was made from (recipe.digest), so new base installers never serve
// a stale archive.
type cache struct {
	dir string
	max int64

	mu    sync.Mutex
	size  int64
	order *list.List               // of *cached, most recently used first
	files map[string]*list.Element // name → element
}

type cached struct {
	name string
	size int64
}

// openCache opens the cache folder, removing temporary files a crash left
// and archives beyond max, and learns what the folder holds, oldest use
// (modification time) last.
func openCache(dir string, max int64) (c *cache, leftovers int, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, fmt.Errorf("archive cache: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("archive cache: %w", err)
	}
	c = &cache{dir: dir, max: max, order: list.New(), files: map[string]*list.Element{}}
	type found struct {
		name string
		size int64
		mod  time.Time
	}
	var all []found
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if atomicfile.IsTemp(e.Name()) {
			if os.Remove(p) == nil {
				leftovers++
			}
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil {
			all = append(all, found{e.Name(), info.Size(), info.ModTime()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod.After(all[j].mod) })
	for _, f := range all {
		c.files[f.name] = c.order.PushBack(&cached{f.name, f.size})
		c.size += f.size
	}
	c.mu.Lock()
	c.evict("")
	c.mu.Unlock()
	return c, leftovers, nil
}

func (c *cache) path(name string) string { return filepath.Join(c.dir, name) }

// open opens a cached archive and marks it used; fs.ErrNotExist when it is
// not cached.
func (c *cache) open(name string) (*os.File, error) {
	c.mu.Lock()
	el, ok := c.files[name]
	if ok {
		c.order.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		return nil, fs.ErrNotExist
	}
	f, err := os.Open(c.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		// Removed behind our back (by an operator, say): forget it.
		c.forget(name)
	}
	return f, err
}

// has reports whether name is cached, without marking it used.
func (c *cache) has(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.files[name]
	return ok
}

// add writes an archive into the cache with fill and returns it opened.
// Less recently used archives are removed to keep the total within max;
// an archive larger than max alone is removed too once opened (the open file
// still serves this download on Unix), so the bound always holds.
func (c *cache) add(name string, fill func(*os.File) error) (*os.File, error) {
	path := c.path(name)
	if err := atomicfile.Write(path, 0o644, fill); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.files[name]; ok {
		c.size -= el.Value.(*cached).size
		c.order.Remove(el)
	}
	c.files[name] = c.order.PushFront(&cached{name, st.Size()})
	c.size += st.Size()
	c.evict(name)
	if c.size > c.max {
		c.removeLocked(name)
	}
	return f, nil
}

// evict removes least recently used archives other than keep until the
// total is within max. c.mu is held.
func (c *cache) evict(keep string) {
	for c.size > c.max {
		el := c.order.Back()
		for el != nil && el.Value.(*cached).name == keep {
			el = el.Prev()
		}
		if el == nil {
			return
		}
		c.removeLocked(el.Value.(*cached).name)
	}
}

func (c *cache) removeLocked(name string) {
	el, ok := c.files[name]
	if !ok {
		return
	}
	c.order.Remove(el)
	delete(c.files, name)
	c.size -= el.Value.(*cached).size
	// On Windows a file being downloaded cannot be removed; it stays on
	// disk, uncounted, until the next start removes it beyond the bound.
	os.Remove(c.path(name))
}

func (c *cache) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.files[name]; ok {
		c.order.Remove(el)
		delete(c.files, name)
		c.size -= el.Value.(*cached).size
	}
}

// stats returns the number of archives and their total size.
func (c *cache) stats() (n int, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.files), c.size
}
