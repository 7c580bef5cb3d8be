//go:build unix

package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// CheckDir refuses, when the installer runs as root, an install directory
// that another user could tamper with while root writes in it: one that
// this directory or any directory above it up to / lets a non-root user
// write (without the sticky bit, which keeps others' entries safe), or
// that belongs to another user. A directory not created yet is judged by
// the directories above it. As any other user it accepts everything: the
// user's own permissions bound what the install can do.
func CheckDir(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return checkDirAs(dir, 0)
}

func checkDirAs(dir string, uid int) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	// The nearest directory that exists, with links resolved: the checks
	// are about the real directories.
	p := abs
	for {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check %s: %w", p, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("check %s: %w", p, err)
	}
	for d := real; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("check %s: %w", d, err)
		}
		s, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		mode := st.Mode()
		sticky := mode&fs.ModeSticky != 0
		switch {
		case int(s.Uid) != uid:
			return &UnsafeDirError{Dir: abs, Culprit: d, Why: "belongs to " + userName(s.Uid) + ", who could replace files while the installer, as root, writes in it"}
		case mode.Perm()&0o002 != 0 && !sticky:
			return &UnsafeDirError{Dir: abs, Culprit: d, Why: "may be written by every user, who could replace files while the installer, as root, writes in it"}
		case mode.Perm()&0o020 != 0 && !sticky && s.Gid != 0:
			return &UnsafeDirError{Dir: abs, Culprit: d, Why: "may be written by the members of group " + groupName(s.Gid) + ", who could replace files while the installer, as root, writes in it"}
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return "the user " + u.Username
	}
	return "the user with uid " + id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}
