package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Nothing under the install directory is followed. Every file the state
// opens, creates, renames or removes there is reached through an os.Root
// on the directory (so no path, however it was tampered with, leads
// outside it), and each name is first checked, component by component,
// without following symbolic links: a symbolic link, device, FIFO or
// anything else where the installer expects its own file or directory is
// an error naming the path (a NotOursError), never a target. Files that
// are read are also checked after opening to be the very file that was
// checked, so a link swapped in between is caught too.

// NotOursError says that a path in the install directory is not what the
// installer expects there, and so was not touched.
type NotOursError struct {
	Path   string // the whole path
	Reason string // "is a symbolic link", "is a named pipe", ...
}

func (e *NotOursError) Error() string {
	return fmt.Sprintf("%s %s, where the installer expects its own file; it was not touched: remove it or choose another directory", e.Path, e.Reason)
}

// dirTree is an install directory opened as an os.Root.
type dirTree struct {
	root *os.Root
	dir  string // its path, for messages
}

func openTree(dir string) (*dirTree, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &dirTree{root: r, dir: dir}, nil
}

func (t *dirTree) Close() error { return t.root.Close() }

// path is the full path of name (slash-separated, relative to the tree).
func (t *dirTree) path(name string) string { return filepath.Join(t.dir, filepath.FromSlash(name)) }

// kind describes a file mode that is neither a regular file nor a directory.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "is a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "is a named pipe"
	case m&fs.ModeSocket != 0:
		return "is a socket"
	case m&fs.ModeDevice != 0:
		return "is a device"
	case m&fs.ModeIrregular != 0:
		// Go's Lstat on Windows: a junction (a directory link any user
		// may make) or another reparse point that is not a symbolic link.
		return "is a junction or another special file"
	case m.IsDir():
		return "is a directory"
	case m.IsRegular():
		return "is a file"
	}
	return "is not a regular file"
}

// lstat checks every directory on the way to name without following links
// and returns the Lstat of name itself; fs.ErrNotExist when it is absent.
func (t *dirTree) lstat(name string) (fs.FileInfo, error) {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		st, err := t.root.Lstat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, &NotOursError{Path: t.path(p), Reason: kind(st.Mode())}
		}
	}
	return t.root.Lstat(name)
}

// exists reports whether name is there at all (a link counts).
func (t *dirTree) exists(name string) bool {
	_, err := t.lstat(name)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// expect checks that name is absent, or of the wanted type (a regular file
// or a directory); it returns whether it exists.
func (t *dirTree) expect(name string, dir bool) (bool, error) {
	st, err := t.lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if (dir && !st.IsDir()) || (!dir && !st.Mode().IsRegular()) {
		return true, &NotOursError{Path: t.path(name), Reason: kind(st.Mode())}
	}
	return true, nil
}

// openOwn opens an existing name that must be a regular file owned by the
// user running the installer, with flag (O_RDONLY, or O_WRONLY|O_APPEND).
func (t *dirTree) openOwn(name string, flag int) (*os.File, error) {
	before, err := t.lstat(name)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, &NotOursError{Path: t.path(name), Reason: kind(before.Mode())}
	}
	if !ownedByMe(before) {
		return nil, &NotOursError{Path: t.path(name), Reason: "belongs to another user"}
	}
	f, err := t.root.OpenFile(name, flag, 0)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !os.SameFile(before, after) {
		f.Close()
		return nil, &NotOursError{Path: t.path(name), Reason: "was replaced while the installer opened it"}
	}
	return f, nil
}

// readOwn reads a regular file of ours, at most max bytes (an error beyond).
func (t *dirTree) readOwn(name string, max int64) ([]byte, error) {
	f, err := t.openOwn(name, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.path(name), err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a file this installer wrote", t.path(name), max)
	}
	return b, nil
}

// create makes a new file; it never follows or reuses anything already
// there (O_EXCL), and its directory was checked.
func (t *dirTree) create(name string, perm fs.FileMode) (*os.File, error) {
	if dir := path.Dir(name); dir != "." {
		if _, err := t.expect(dir, true); err != nil {
			return nil, err
		}
	}
	return t.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}

// removeAll removes name and what is under it, not following links
// (os.Root's RemoveAll removes a link itself, never its target).
func (t *dirTree) removeAll(name string) error {
	if _, err := t.lstat(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return t.root.RemoveAll(name)
}

// rename moves one of our entries; both names are checked first.
func (t *dirTree) rename(from, to string) error {
	if _, err := t.lstat(from); err != nil {
		return err
	}
	if dir := path.Dir(to); dir != "." {
		if _, err := t.expect(dir, true); err != nil {
			return err
		}
	}
	return t.root.Rename(from, to)
}

// sync makes name durable (see syncPath); "." is the directory itself.
func (t *dirTree) sync(name string) error {
	return syncIn(t.root, name)
}

// OpenTempLog opens the install log (TempLogFile) in dir for appending:
// an existing one only when it is a regular file of this user's, else a
// new one. A link, a pipe or another user's file there is a NotOursError.
func OpenTempLog(dir string) (*os.File, error) {
	t, err := openTree(dir)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	ok, err := t.expect(TempLogFile, false)
	if err != nil {
		return nil, err
	}
	if ok {
		return t.openOwn(TempLogFile, os.O_WRONLY|os.O_APPEND)
	}
	return t.root.OpenFile(TempLogFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
}
