// Package atomicfile writes files so that they appear complete or not at all:
// the content goes to a temporary file in the same folder, which is synced
// and renamed over the final name, and the folder is synced so the rename
// survives a crash. Every file the project writes in place goes through it.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// TempMarker is part of the name of every temporary file Write makes
// (".NAME.tmp-RANDOM"), so that a program can find and remove the ones a
// crash left behind (see IsTemp).
const TempMarker = ".tmp-"

// IsTemp reports whether a file name is one of Write's temporary files.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, TempMarker)
}

// Write creates or replaces path with what fill writes, with mode perm.
// Folders are created as needed. On any error nothing is left behind and an
// existing file at path is unchanged.
func Write(path string, perm os.FileMode, fill func(f *os.File) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+TempMarker+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := fill(f); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// WriteFile is Write with the content in memory.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteFrom is Write with the content read from r.
func WriteFrom(path string, r io.Reader, perm os.FileMode) error {
	return Write(path, perm, func(f *os.File) error {
		_, err := io.Copy(f, r)
		return err
	})
}
