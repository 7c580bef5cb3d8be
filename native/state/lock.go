package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// LockFile is the lock file inside the install directory. Whoever holds
// the lock on it (flock on Unix, LockFileEx on Windows: the operating
// system releases it when the process dies, however it dies) is the one
// install or uninstall working in the directory; its pid is written in it.
const LockFile = ".seattle-installer.lock"

// LockedError means another install or uninstall holds the directory.
type LockedError struct {
	Dir string
	PID int // 0 when it could not be read
}

func (e *LockedError) Error() string {
	pid := "pid unknown"
	if e.PID > 0 {
		pid = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("another install is running in %s (%s)", e.Dir, pid)
}

// Lock is the exclusive hold of one process on an install directory.
type Lock struct {
	t *dirTree
	f *os.File
}

// LockDir takes the directory's lock, or fails at once with a
// *LockedError when another process holds it. The directory must exist.
// Release ends the hold (and the process's end does too).
func LockDir(dir string) (*Lock, error) {
	t, err := openTree(dir)
	if err != nil {
		return nil, err
	}
	// A holder that releases removes the file; one who opened the old file
	// just before may then lock a file no longer in the directory. So after
	// locking, the file must still be the one named LockFile, else retry.
	for range 10 {
		if _, err := t.expect(LockFile, false); err != nil {
			t.Close()
			return nil, err
		}
		f, err := t.root.OpenFile(LockFile, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("open the lock file %s: %w", t.path(LockFile), err)
		}
		st, err := f.Stat()
		if err == nil && !st.Mode().IsRegular() {
			err = &NotOursError{Path: t.path(LockFile), Reason: kind(st.Mode())}
		}
		if err != nil {
			f.Close()
			t.Close()
			return nil, err
		}
		if err := lockFile(f); err != nil {
			f.Close()
			t.Close()
			if errors.Is(err, errWouldBlock) {
				return nil, &LockedError{Dir: dir, PID: readPID(dir)}
			}
			return nil, fmt.Errorf("lock %s: %w", t.path(LockFile), err)
		}
		now, err := t.root.Lstat(LockFile)
		if err != nil || !os.SameFile(st, now) {
			f.Close() // releases the lock on the stale file
			continue
		}
		if !ownedByMe(st) {
			f.Close()
			t.Close()
			return nil, &NotOursError{Path: t.path(LockFile), Reason: "belongs to another user"}
		}
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		return &Lock{t: t, f: f}, nil
	}
	t.Close()
	return nil, &LockedError{Dir: dir, PID: readPID(dir)}
}

// Release removes the lock file and ends the hold. Safe on nil.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	unlockAndRemove(l)
	l.f = nil
	l.t.Close()
}

// readPID reads the holder's pid from the lock file, 0 if it cannot.
func readPID(dir string) int {
	t, err := openTree(dir)
	if err != nil {
		return 0
	}
	defer t.Close()
	b, err := t.readOwnOrAny(LockFile, 64)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// readOwnOrAny reads a small regular file (of any owner: the pid of
// another user's install is still worth naming).
func (t *dirTree) readOwnOrAny(name string, max int) ([]byte, error) {
	st, err := t.lstat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fs.ErrInvalid
	}
	f, err := t.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, max)
	n, _ := f.ReadAt(b, 0)
	return b[:n], nil
}
