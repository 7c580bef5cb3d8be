// Package servicelog writes Seattle's service log the way Seattle's service
// logger does (SPEC.md, "The service log"): a circular log named installInfo
// in the install directory, kept in two files, installInfo.old and
// installInfo.new, of at most about 1 MiB each, with one "TIME:PID-N:MESSAGE"
// line per message.
package servicelog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Names in the install directory, and the size at which a file is full.
const (
	Name    = "installInfo"
	OldFile = Name + ".old"
	NewFile = Name + ".new"
	MaxSize = 1 << 20 // 1048576 bytes
)

// Line formats one message as the service logger does: the time as Python
// 2's str(time.time()) prints it, the process id, the message, a newline.
func Line(t time.Time, pid int, msg string) string {
	return Time(t) + ":PID-" + strconv.Itoa(pid) + ":" + msg + "\n"
}

// Time is seconds since the epoch as Python 2's str() prints a float: 12
// significant digits, and ".0" on a whole number.
func Time(t time.Time) string {
	secs := float64(t.UnixNano()) / 1e9
	s := strconv.FormatFloat(secs, 'g', 12, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// Append returns the two files' contents after adding line to a log whose
// files hold old and new (nil when absent): into .old until it holds MaxSize
// bytes, then into .new; when .new is full it becomes .old and a new .new
// starts. A line longer than MaxSize is written whole all the same.
func Append(old, new []byte, line string) (old2, new2 []byte) {
	switch {
	case len(new) == 0 && len(old) < MaxSize:
		return append(old, line...), new
	case len(new) < MaxSize:
		return old, append(new, line...)
	default:
		return new, []byte(line)
	}
}

// Read returns the contents of the two files in dir, nil for an absent one.
func Read(dir string) (old, new []byte, err error) {
	if old, err = readFile(filepath.Join(dir, OldFile)); err != nil {
		return nil, nil, err
	}
	if new, err = readFile(filepath.Join(dir, NewFile)); err != nil {
		return nil, nil, err
	}
	return old, new, nil
}

// readFile reads a log file without following a symbolic link: another
// user must not make the installer write, or disclose, a file of theirs.
func readFile(p string) ([]byte, error) {
	f, err := openNoFollow(p, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the service log: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 2*MaxSize+1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return b, nil
}

// Log appends msg to the service log in dir, as one line stamped now with
// this process's id. It is for messages after an install's commit (an
// uninstall, a second install attempt); the install's own log is written by
// its commit, through Append.
func Log(dir, msg string) error {
	return logAt(dir, time.Now(), os.Getpid(), msg)
}

func logAt(dir string, now time.Time, pid int, msg string) error {
	line := Line(now, pid, msg)
	oldP, newP := filepath.Join(dir, OldFile), filepath.Join(dir, NewFile)
	oldSize, err := size(oldP)
	if err != nil {
		return err
	}
	newSize, err := size(newP)
	if err != nil {
		return err
	}
	target := oldP
	switch {
	case newSize == 0 && oldSize < MaxSize:
	case newSize < MaxSize:
		target = newP
	default:
		// .new is full: it becomes .old, and the line starts a new .new.
		if err := os.Rename(newP, oldP); err != nil {
			return fmt.Errorf("rotate the service log: %w", err)
		}
		target = newP
	}
	f, err := openNoFollow(target, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open the service log: %w", err)
	}
	if _, err := io.WriteString(f, line); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", target, err)
	}
	return f.Close()
}

func size(p string) (int64, error) {
	st, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("the service log: %w", err)
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file: the service log is not written through it", p)
	}
	return st.Size(), nil
}
