package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

const manifestHeader = "# seattle-installer manifest 1: what the install wrote here; `seattle-installer uninstall` removes exactly these"

// manifest lines are "file NAME" or "dir NAME", NAME relative to the
// install directory with forward slashes.
func manifestText(lines []string) []byte {
	return []byte(manifestHeader + "\n" + strings.Join(lines, "\n") + "\n")
}

type manifestEntry struct {
	dir  bool
	name string
}

// maxManifest bounds the manifest Uninstall reads: a real one is a few
// kilobytes even with many vessels and security layer files.
const maxManifest = 1 << 20

func readManifest(dir string) ([]manifestEntry, error) {
	p := filepath.Join(dir, ManifestFile)
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("%s is larger than %d KiB: not a manifest this installer wrote", p, maxManifest>>10)
	}
	if !bytes.HasPrefix(b, []byte(manifestHeader+"\n")) {
		return nil, fmt.Errorf("%s does not start with the header this installer writes", p)
	}
	var out []manifestEntry
	sc := bufio.NewScanner(bytes.NewReader(b[len(manifestHeader)+1:]))
	line := 1
	for sc.Scan() {
		line++
		kind, name, ok := strings.Cut(sc.Text(), " ")
		if !ok || (kind != "file" && kind != "dir") {
			return nil, fmt.Errorf("%s:%d: not a \"file NAME\" or \"dir NAME\" line", p, line)
		}
		// Only paths inside the install directory: a damaged or hostile
		// manifest must not make uninstall remove anything outside it.
		if name == "" || !fs.ValidPath(name) || name == "." || path.Clean(name) != name || strings.Contains(name, `\`) {
			return nil, fmt.Errorf("%s:%d: %q is not a path inside the install directory", p, line, name)
		}
		out = append(out, manifestEntry{kind == "dir", name})
	}
	return out, nil
}

// Uninstalled is what Uninstall did.
type Uninstalled struct {
	Removed []string // paths removed
	Kept    []string // paths kept, each with the reason
}

// Uninstall removes exactly what an install wrote into dir, as its manifest
// lists it: the vesseldict first, so that the directory stops looking
// installed at once, then the files, then the vessel directories that are
// empty by then. Files someone added later (logs, uploads of the vessels)
// are kept, and so are the directories holding them. An interrupted install
// is recovered first; an interrupted uninstall is finished by running it
// again.
func Uninstall(dir string) (*Uninstalled, error) {
	if _, err := Recover(dir); err != nil {
		return nil, err
	}
	entries, err := readManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if ok, _ := Installed(dir); ok {
			return nil, fmt.Errorf("%s holds a vesseldict but no %s: it was not installed by this installer, so nothing was removed", dir, ManifestFile)
		}
		return nil, ErrNotInstalled
	}
	if err != nil {
		return nil, err
	}
	u := &Uninstalled{}
	remove := func(e manifestEntry) error {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed already, by someone or an interrupted uninstall
		}
		if err != nil {
			return err
		}
		if st.IsDir() != e.dir {
			u.Kept = append(u.Kept, p+" (its type changed since the install: not ours any more)")
			return nil
		}
		Checkpoint("uninstall " + e.name)
		if err := os.Remove(p); err != nil {
			if e.dir {
				if des, rerr := os.ReadDir(p); rerr == nil && len(des) > 0 {
					u.Kept = append(u.Kept, fmt.Sprintf("%s (holds %d entries the install did not write)", p, len(des)))
					return nil
				}
			}
			return fmt.Errorf("remove %s: %w", p, err)
		}
		u.Removed = append(u.Removed, p)
		return nil
	}
	for _, e := range entries {
		if e.name == VesseldictFile {
			if err := remove(e); err != nil {
				return u, err
			}
			if err := syncDir(dir); err != nil {
				return u, fmt.Errorf("sync %s: %w", dir, err)
			}
		}
	}
	for _, wantDir := range []bool{false, true} {
		for i := len(entries) - 1; i >= 0; i-- {
			e := entries[i]
			if e.dir != wantDir || e.name == VesseldictFile {
				continue
			}
			if err := remove(e); err != nil {
				return u, err
			}
		}
	}
	if err := syncDir(dir); err != nil {
		return u, fmt.Errorf("sync %s: %w", dir, err)
	}
	// The manifest goes last: until then a rerun can finish the job.
	if err := os.Remove(filepath.Join(dir, ManifestFile)); err != nil {
		return u, fmt.Errorf("remove %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	u.Removed = append(u.Removed, filepath.Join(dir, ManifestFile))
	return u, syncDir(dir)
}
