// Package state writes a Seattle node's state into the install directory,
// all or nothing: a resource file and a directory per vessel, the node
// manager's vesseldict, and the install log appended to the service log. It
// also finishes or undoes an install that was killed half-way, and removes
// exactly what an install wrote (Uninstall).
//
// How all or nothing works: everything is first written into a staging
// directory inside the install directory (same file system, so renames are
// atomic), every file and directory synced. The staging directory is then
// renamed to a commit directory, which from then on is the journal of a
// commit in progress. Its entries are renamed into place one by one, the
// vesseldict last: the vesseldict is the commit point, and a directory
// without one holds no install. Recover, which every install and uninstall
// runs first, deletes a leftover staging directory, undoes a commit that did
// not reach its vesseldict, and finishes one that did.
package state

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/seattletestbed/seattle-installer/native/servicelog"
)

// Names in the install directory.
const (
	VesseldictFile = "vesseldict"                  // the node manager's dictionary; its presence means installed
	ServiceLogFile = servicelog.OldFile            // the service log the install log is appended to (then .new)
	TempLogFile    = "installer_benchmark.log"     // the install log until the install succeeds
	ManifestFile   = ".seattle-installer.manifest" // what the install wrote, for Uninstall

	stagingDir  = ".seattle-installer.staging"
	commitDir   = ".seattle-installer.commit"
	journalFile = ".journal" // inside commitDir: the entries to move, in order
)

// ErrAlreadyInstalled means the directory already holds a vesseldict.
var ErrAlreadyInstalled = errors.New("already installed")

// ErrNotInstalled means Uninstall found no install to remove.
var ErrNotInstalled = errors.New("no install found")

// Install is everything Write puts on disk.
type Install struct {
	Vessels      []Vessel
	Restrictions []byte // vessel.restrictions, appended to every resource file
	PrependDir   string // its files are copied into every vessel directory; "" for none
	// LogText is the install log so far; it, then LogEnd, is appended to
	// the service log as part of the commit, and the temporary log file
	// (TempLogFile, which the caller has closed) is removed.
	LogText []byte
	LogEnd  string
	// Files go into place in the same commit, before the vesseldict.
	Files []File
}

// Written is what a successful Write put in place.
type Written struct {
	Files    []string // paths, in the order they were moved into place
	Warnings []string // clean-up that failed after the commit point
}

// Step reports progress through Write: fraction done (0..1) and what now.
type Step func(fraction float64, detail string)

// Installed reports whether dir holds an install (a vesseldict).
func Installed(dir string) (bool, error) {
	t, err := openTree(dir)
	if err != nil {
		return false, err
	}
	defer t.Close()
	return t.expect(VesseldictFile, false)
}

// Recovery says what Recover found and did.
type Recovery struct {
	DiscardedStaging bool // a half-written staging directory was deleted
	RolledBack       bool // a commit that had not reached its vesseldict was undone
	Completed        bool // a commit past its vesseldict was finished: dir holds a complete install
}

// Recover brings dir back to a state without a commit in progress: nothing
// installed, or a complete install. Running it when there is nothing to
// recover does nothing.
//
// Run it only while holding the directory's Lock: another install may be
// writing the staging directory it would remove.
func Recover(dir string) (Recovery, error) {
	t, err := openTree(dir)
	if err != nil {
		return Recovery{}, err
	}
	defer t.Close()
	return recoverTree(t)
}

func recoverTree(t *dirTree) (Recovery, error) {
	var rec Recovery
	if ok, err := t.expect(stagingDir, true); err != nil {
		return rec, err
	} else if ok {
		if err := t.removeAll(stagingDir); err != nil {
			return rec, fmt.Errorf("remove the staging directory of an interrupted install: %w", err)
		}
		rec.DiscardedStaging = true
	}
	if ok, err := t.expect(commitDir, true); err != nil {
		return rec, err
	} else if !ok {
		if rec.DiscardedStaging {
			t.sync(".")
		}
		return rec, nil
	}
	names, err := readJournal(t)
	if err != nil {
		return rec, fmt.Errorf("an interrupted install left %s but %w; remove that directory and any vessel files by hand", t.path(commitDir), err)
	}
	if !t.exists(commitDir+"/"+VesseldictFile) && t.exists(VesseldictFile) {
		rec.Completed = true
		_, err := finish(t)
		return rec, err
	}
	rec.RolledBack = true
	return rec, rollBack(t, names)
}

// Write puts in into dir, all or nothing. On an error nothing of in is left
// in dir (the install log, which is not Write's, stays). The caller holds
// the directory's Lock.
func Write(ctx context.Context, dir string, in Install, step Step) (*Written, error) {
	if step == nil {
		step = func(float64, string) {}
	}
	t, err := openTree(dir)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if _, err := recoverTree(t); err != nil {
		return nil, err
	}
	if ok, err := t.expect(VesseldictFile, false); err != nil {
		return nil, fmt.Errorf("look for %s: %w", t.path(VesseldictFile), err)
	} else if ok {
		return nil, ErrAlreadyInstalled
	}
	prepend, err := prependFiles(in.PrependDir)
	if err != nil {
		return nil, err
	}
	var entries []string // top-level names, in the order they move into place
	var manifest []string
	for _, v := range in.Vessels {
		if !safeName(v.Name) {
			return nil, fmt.Errorf("vessel name %q is not of the form v1, v2, ...", v.Name)
		}
		entries = append(entries, "resource."+v.Name)
		manifest = append(manifest, "file resource."+v.Name)
	}
	for _, v := range in.Vessels {
		entries = append(entries, v.Name)
		manifest = append(manifest, "dir "+v.Name)
		for _, f := range prepend {
			manifest = append(manifest, "file "+v.Name+"/"+f)
		}
	}
	logFiles, err := serviceLogFiles(t, in)
	if err != nil {
		return nil, err
	}
	files, fileLines, clash, err := planFiles(t, append(append([]File(nil), in.Files...), logFiles...))
	if err != nil {
		return nil, err
	}
	for _, name := range append(append([]string(nil), entries...), ManifestFile) {
		if t.exists(name) {
			clash = append(clash, name)
		}
	}
	if len(clash) > 0 && t.exists(ManifestFile) {
		return nil, fmt.Errorf("%s holds files of an earlier install whose uninstall did not finish (%s); finish it with: seattle-installer uninstall --dir %s", dir, strings.Join(clash, ", "), dir)
	}
	if len(clash) > 0 {
		return nil, fmt.Errorf("%s already holds %s, from an earlier install or someone else; the install does not overwrite them: move them away or choose another directory", dir, strings.Join(clash, ", "))
	}
	manifest = append(manifest, fileLines...)
	manifest = append(manifest, "file "+VesseldictFile)
	entries = append(entries, ManifestFile)
	for _, f := range files {
		entries = append(entries, f.Name)
	}
	entries = append(entries, VesseldictFile)

	if err := stage(ctx, t, in, prepend, manifest, entries, files, step); err != nil {
		if !t.exists(stagingDir) {
			return nil, err
		}
		if rmErr := t.removeAll(stagingDir); rmErr != nil {
			err = fmt.Errorf("%w (and removing %s failed: %v)", err, t.path(stagingDir), rmErr)
		}
		return nil, err
	}
	Checkpoint("rename the staging directory to the commit directory")
	if err := t.rename(stagingDir, commitDir); err != nil {
		t.removeAll(stagingDir)
		return nil, fmt.Errorf("start the commit: %w", err)
	}
	if err := t.sync("."); err != nil {
		return nil, undo(t, entries, fmt.Errorf("sync %s: %w", dir, err))
	}
	w := &Written{}
	for i, name := range entries {
		if ctx.Err() != nil && name != VesseldictFile {
			return nil, undo(t, entries, ctx.Err())
		}
		if name == VesseldictFile {
			// Everything else must be durable before the commit point.
			Checkpoint("sync the install directory before the vesseldict")
			if err := t.sync("."); err != nil {
				return nil, undo(t, entries, fmt.Errorf("sync %s: %w", dir, err))
			}
		}
		Checkpoint("move " + name + " into place")
		if err := t.rename(commitDir+"/"+name, name); err != nil {
			return nil, undo(t, entries, fmt.Errorf("move %s into place: %w", t.path(name), err))
		}
		w.Files = append(w.Files, t.path(name))
		step(0.8+0.18*float64(i+1)/float64(len(entries)), "moved "+name+" into place")
	}
	Checkpoint("sync the install directory after the vesseldict")
	if err := t.sync("."); err != nil {
		w.Warnings = append(w.Warnings, fmt.Sprintf("sync %s: %v", dir, err))
	}
	warnings, _ := finish(t)
	w.Warnings = append(w.Warnings, warnings...)
	step(1, "")
	return w, nil
}

// maxServiceLog bounds the old service log an install appends to.
const maxServiceLog = 256 << 20

// stage writes every entry into the staging directory and syncs it.
func stage(ctx context.Context, t *dirTree, in Install, prepend, manifest, entries []string, files []File, step Step) error {
	Checkpoint("create the staging directory")
	if err := t.root.Mkdir(stagingDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", t.path(stagingDir), err)
	}
	total := float64(2*len(in.Vessels) + 4)
	done := 0.0
	advance := func(detail string) {
		done++
		step(0.8*done/total, detail)
	}
	for _, v := range in.Vessels {
		if err := ctx.Err(); err != nil {
			return err
		}
		text, err := ResourceFile(v, in.Restrictions)
		if err != nil {
			return err
		}
		if err := writeFile(t, stagingDir+"/resource."+v.Name, text); err != nil {
			return err
		}
		advance("wrote resource." + v.Name)
	}
	for _, v := range in.Vessels {
		if err := ctx.Err(); err != nil {
			return err
		}
		vdir := stagingDir + "/" + v.Name
		Checkpoint("create directory " + v.Name)
		if err := t.root.Mkdir(vdir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", t.path(vdir), err)
		}
		for _, f := range prepend {
			if err := copyFile(t, filepath.Join(in.PrependDir, f), vdir+"/"+f); err != nil {
				return err
			}
		}
		advance("created " + v.Name + "/")
	}
	dict, err := Vesseldict(in.Vessels)
	if err != nil {
		return err
	}
	if err := writeFile(t, stagingDir+"/"+VesseldictFile, dict); err != nil {
		return err
	}
	advance("wrote the vesseldict")

	if err := stageFiles(t, files); err != nil {
		return err
	}
	advance("staged nodeman.cfg and the other files, and appended the install log to the service log")

	if err := writeFile(t, stagingDir+"/"+ManifestFile, manifestText(manifest)); err != nil {
		return err
	}
	if err := writeFile(t, stagingDir+"/"+journalFile, []byte(strings.Join(entries, "\n")+"\n")); err != nil {
		return err
	}
	Checkpoint("sync everything staged")
	if err := syncTree(t, stagingDir); err != nil {
		return err
	}
	advance("staged everything")
	return nil
}

// undo rolls back a failed commit and returns err, or a worse error when
// the undo failed too.
func undo(t *dirTree, entries []string, err error) error {
	if rbErr := rollBack(t, entries); rbErr != nil {
		return fmt.Errorf("%w; undoing the partial install failed too: %v", err, rbErr)
	}
	return err
}

// rollBack moves the directory back to before a commit that had not reached
// its vesseldict: every entry no longer in the commit directory was moved
// into place by it (Write refuses to start when any of them existed), so it
// is removed, and the files it replaced (the service log, nodeman.cfg) are
// restored.
func rollBack(t *dirTree, entries []string) error {
	var errs []error
	for i := len(entries) - 1; i >= 0; i-- {
		name := entries[i]
		if t.exists(commitDir + "/" + name) {
			continue
		}
		Checkpoint("undo " + name)
		if restored, err := restoreOriginal(t, name); restored {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := t.removeAll(name); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", t.path(name), err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Entries must be gone for good before the journal that names them.
	if err := t.sync("."); err != nil {
		return fmt.Errorf("sync %s: %w", t.dir, err)
	}
	Checkpoint("remove the commit directory after an undo")
	if err := t.removeAll(commitDir); err != nil {
		return fmt.Errorf("remove %s: %w", t.path(commitDir), err)
	}
	return t.sync(".")
}

// finish clears up after the commit point: the temporary log (now part of
// the service log) and the commit directory. Failures leave an install that
// is complete; they are returned as warnings.
func finish(t *dirTree) ([]string, error) {
	var warnings []string
	Checkpoint("remove the temporary log")
	if ok, err := t.expect(TempLogFile, false); err != nil {
		warnings = append(warnings, err.Error())
	} else if ok {
		if err := t.root.Remove(TempLogFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			warnings = append(warnings, err.Error())
		}
	}
	Checkpoint("remove the commit directory")
	if err := t.removeAll(commitDir); err != nil {
		warnings = append(warnings, err.Error())
	}
	if err := t.sync("."); err != nil {
		warnings = append(warnings, fmt.Sprintf("sync %s: %v", t.dir, err))
	}
	if len(warnings) > 0 {
		return warnings, errors.New(strings.Join(warnings, "; "))
	}
	return nil, nil
}

func readJournal(t *dirTree) ([]string, error) {
	b, err := t.readOwn(commitDir+"/"+journalFile, maxManifest)
	if err != nil {
		return nil, fmt.Errorf("its journal cannot be read: %w", err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		return nil, errors.New("its journal is incomplete")
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name := sc.Text()
		// Only names the install itself uses: a damaged journal must not
		// make the undo remove anything else.
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
			return nil, fmt.Errorf("its journal names %q", name)
		}
		names = append(names, name)
	}
	return names, nil
}

// prependFiles lists the regular files of the security layer directory,
// sorted; a subdirectory is an error because the node manager only
// prepends files.
func prependFiles(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the security layer directory: %w", err)
	}
	var names []string
	for _, de := range des {
		if !de.Type().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file: the security layer directory may hold only files", filepath.Join(dir, de.Name()))
		}
		names = append(names, de.Name())
	}
	sort.Strings(names)
	return names, nil
}

// syncTree makes every file and directory under name durable. The syncs
// run concurrently: a journaling file system commits fsyncs that arrive
// together in one transaction, so ten vessels cost about one sync instead
// of thirty in a row.
func syncTree(t *dirTree, name string) error {
	var paths []string
	err := fs.WalkDir(t.root.FS(), name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() || d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", t.path(name), err)
	}
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32) // bounded: a security layer may have many files
	for i, p := range paths {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := t.sync(p); err != nil {
				errs[i] = fmt.Errorf("sync %s: %w", t.path(p), err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writeFile creates name (new, never an existing file or link) with data;
// syncTree syncs it later. Tests may pause it half-way (see Checkpoint) to
// leave a partial file behind.
func writeFile(t *dirTree, name string, data []byte) error {
	return writeFileMode(t, name, data, 0o644)
}

func writeFileMode(t *dirTree, name string, data []byte, mode fs.FileMode) error {
	Checkpoint("create " + rel(name))
	f, err := t.create(name, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", t.path(name), err)
	}
	half := len(data) / 2
	if _, err := f.Write(data[:half]); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", t.path(name), err)
	}
	Checkpoint("half-written " + rel(name))
	if _, err := f.Write(data[half:]); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", t.path(name), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", t.path(name), err)
	}
	return nil
}

// copyFile copies a security layer file (from outside the install
// directory) to a new file under the tree.
func copyFile(t *dirTree, from, to string) error {
	Checkpoint("copy " + rel(to))
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("read %s: %w", from, err)
	}
	defer in.Close()
	out, err := t.create(to, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", t.path(to), err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", from, t.path(to), err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write %s: %w", t.path(to), err)
	}
	return nil
}

// rel names a staged path by its last two elements, for checkpoint names.
func rel(name string) string {
	return path.Base(path.Dir(name)) + "/" + path.Base(name)
}
