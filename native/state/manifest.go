package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
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

func readManifest(t *dirTree) ([]manifestEntry, error) {
	p := t.path(ManifestFile)
	b, err := t.readOwn(ManifestFile, maxManifest)
	if err != nil {
		return nil, err
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

// ErrKeptLinks means Uninstall kept entries whose path now crosses a
// symbolic link or whose type changed: something other than the install
// put them there, and removing them could reach outside the install.
var ErrKeptLinks = errors.New("some entries were kept because they are not what the install wrote")

// Uninstall removes exactly what an install wrote into dir, as its manifest
// lists it: the vesseldict first, so that the directory stops looking
// installed at once, then the files, then the vessel directories that are
// empty by then. Files someone added later (logs, uploads of the vessels)
// are kept, and so are the directories holding them. Nothing is followed:
// an entry whose path now crosses a symbolic link, or that is of another
// type than the install wrote, is kept and reported, and the result is
// ErrKeptLinks. An interrupted install is recovered first; an interrupted
// uninstall is finished by running it again. The caller holds the
// directory's Lock.
func Uninstall(dir string) (*Uninstalled, error) {
	t, err := openTree(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotInstalled
		}
		return nil, err
	}
	defer t.Close()
	if _, err := recoverTree(t); err != nil {
		return nil, err
	}
	entries, err := readManifest(t)
	if errors.Is(err, fs.ErrNotExist) {
		if ok, _ := t.expect(VesseldictFile, false); ok {
			return nil, fmt.Errorf("%s holds a vesseldict but no %s: it was not installed by this installer, so nothing was removed", dir, ManifestFile)
		}
		return nil, ErrNotInstalled
	}
	if err != nil {
		return nil, err
	}
	u := &Uninstalled{}
	foreign := false
	remove := func(e manifestEntry) error {
		st, err := t.lstat(e.name)
		var notOurs *NotOursError
		if errors.As(err, &notOurs) {
			// A directory on the way is a link (or a file) now.
			rel, _ := filepath.Rel(dir, notOurs.Path)
			u.Kept = append(u.Kept, fmt.Sprintf("%s: %s %s now", e.name, filepath.ToSlash(rel), notOurs.Reason))
			foreign = true
			return nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed already, by someone or an interrupted uninstall
		}
		if err != nil {
			return err
		}
		if (e.dir && !st.IsDir()) || (!e.dir && !st.Mode().IsRegular()) {
			u.Kept = append(u.Kept, fmt.Sprintf("%s: it %s now, not what the install wrote", e.name, kind(st.Mode())))
			foreign = true
			return nil
		}
		p := t.path(e.name)
		Checkpoint("uninstall " + e.name)
		if err := t.root.Remove(e.name); err != nil {
			if e.dir {
				if des, rerr := fs.ReadDir(t.root.FS(), e.name); rerr == nil && len(des) > 0 {
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
			if err := t.sync("."); err != nil {
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
	if err := t.sync("."); err != nil {
		return u, fmt.Errorf("sync %s: %w", dir, err)
	}
	// The manifest goes last: until then a rerun can finish the job.
	if err := t.root.Remove(ManifestFile); err != nil {
		return u, fmt.Errorf("remove %s: %w", t.path(ManifestFile), err)
	}
	u.Removed = append(u.Removed, t.path(ManifestFile))
	if err := t.sync("."); err != nil {
		return u, err
	}
	if foreign {
		return u, ErrKeptLinks
	}
	return u, nil
}
