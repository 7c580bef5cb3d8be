package state

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/seattletestbed/seattle-installer/native/servicelog"
)

// File is one more file the commit puts into the install directory beside
// the vessels' state: nodeman.cfg, resources.offcut, the record of what
// the install does after its state, the service log.
type File struct {
	Name string      // in the install directory itself: no slashes
	Data []byte      // its content
	Mode fs.FileMode // 0 means 0644; nodeman.cfg holds the private key and is 0600
	// Replace: a regular file of ours of that name is replaced. The commit
	// keeps the original until the commit point, so an undo puts it back;
	// the manifest does not list the file, so uninstall leaves it.
	Replace bool
	// SameOK: a file of that name holding Data already is left alone (and
	// not listed); one holding anything else is a clash.
	SameOK bool
	// Unlisted: uninstall leaves the file even when the install created it.
	Unlisted bool
}

// origPrefix names, inside the commit directory, the original of a file
// the commit replaces.
const origPrefix = ".orig."

// maxFile bounds a file planFiles reads to compare (resources.offcut, a
// few hundred bytes) or keeps for an undo (nodeman.cfg, a few kilobytes).
const maxFile = 1 << 20

// planFiles decides which files go into place: those to write (in order),
// their manifest lines, and the clashes: names that exist and may not be
// replaced.
func planFiles(t *dirTree, files []File) (write []File, manifest []string, clash []string, err error) {
	seen := map[string]bool{}
	for _, f := range files {
		if f.Name == "" || f.Name == "." || f.Name == ".." || strings.ContainsAny(f.Name, `/\`) ||
			f.Name == stagingDir || f.Name == commitDir || f.Name == ManifestFile || f.Name == VesseldictFile || seen[f.Name] {
			return nil, nil, nil, fmt.Errorf("%q is not a file name the install may write", f.Name)
		}
		seen[f.Name] = true
		ok, err := t.expect(f.Name, false)
		switch {
		case err != nil && f.Replace:
			return nil, nil, nil, err // a link or pipe where nodeman.cfg or the log should be
		case err != nil:
			clash = append(clash, f.Name)
			continue
		case !ok:
			if !f.Unlisted {
				manifest = append(manifest, "file "+f.Name)
			}
		case f.Replace:
		case f.SameOK:
			b, err := t.readOwn(f.Name, maxFile)
			if err == nil && bytes.Equal(b, f.Data) {
				continue
			}
			clash = append(clash, f.Name)
			continue
		default:
			clash = append(clash, f.Name)
			continue
		}
		write = append(write, f)
	}
	return write, manifest, clash, nil
}

// serviceLogFiles are the service log's files after the install log (the
// temporary log's text, then LogEnd) is added to them as one message, as
// the original installer transferred it.
func serviceLogFiles(t *dirTree, in Install) ([]File, error) {
	var logs [2][]byte
	for i, name := range []string{servicelog.OldFile, servicelog.NewFile} {
		ok, err := t.expect(name, false)
		if err != nil {
			return nil, fmt.Errorf("the service log: %w", err)
		}
		if ok {
			if logs[i], err = t.readOwn(name, maxServiceLog); err != nil {
				return nil, fmt.Errorf("read the service log: %w", err)
			}
		}
	}
	text := strings.TrimRight(string(in.LogText)+in.LogEnd, "\n")
	old2, new2 := servicelog.Append(logs[0], logs[1], servicelog.Line(time.Now(), os.Getpid(), text))
	var out []File
	if logs[0] == nil || !bytes.Equal(logs[0], old2) {
		out = append(out, File{Name: servicelog.OldFile, Data: old2, Replace: true, Unlisted: true})
	}
	if !bytes.Equal(logs[1], new2) {
		out = append(out, File{Name: servicelog.NewFile, Data: new2, Replace: true, Unlisted: true})
	}
	return out, nil
}

// stageFiles writes files into the staging directory; a copy of each file
// it replaces is kept there too, for an undo.
func stageFiles(t *dirTree, files []File) error {
	for _, f := range files {
		if st, err := t.lstat(f.Name); f.Replace && err == nil {
			b, err := t.readOwn(f.Name, maxServiceLog)
			if err != nil {
				return fmt.Errorf("keep a copy of %s: %w", t.path(f.Name), err)
			}
			Checkpoint("keep " + f.Name + " as it was")
			if err := writeFileMode(t, stagingDir+"/"+origPrefix+f.Name, b, st.Mode().Perm()); err != nil {
				return err
			}
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := writeFileMode(t, stagingDir+"/"+f.Name, f.Data, mode); err != nil {
			return err
		}
	}
	return nil
}

// restoreOriginal puts back the original of name that a commit replaced,
// if it kept one; it reports whether it did.
func restoreOriginal(t *dirTree, name string) (bool, error) {
	orig := commitDir + "/" + origPrefix + name
	if !t.exists(orig) {
		return false, nil
	}
	if err := t.rename(orig, name); err != nil {
		return true, fmt.Errorf("restore %s: %w", t.path(name), err)
	}
	return true, nil
}
