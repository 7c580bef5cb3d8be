package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/linktest"
)

func TestLockIsExclusiveAndReleased(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir)
	var locked *LockedError
	if !errors.As(err, &locked) || locked.PID != os.Getpid() {
		t.Fatalf("second lock: %v, want a LockedError naming pid %d", err, os.Getpid())
	}
	if !strings.Contains(err.Error(), "another install is running in "+dir) {
		t.Errorf("message: %v", err)
	}
	l.Release()
	l.Release() // twice is harmless
	if _, err := os.Lstat(filepath.Join(dir, LockFile)); err == nil {
		t.Error("the lock file is left after Release")
	}
	l2, err := LockDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}

func TestLockRefusesALinkedLockFile(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "target")
	os.WriteFile(outside, []byte("keep"), 0o644)
	linktest.Symlink(t, outside, filepath.Join(dir, LockFile))
	if l, err := LockDir(dir); err == nil {
		l.Release()
		t.Fatal("a lock file linked outside the directory was used")
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("the target was written: %q", b)
	}
	// A link to a file inside the directory is refused too, and the file
	// keeps its contents.
	os.Remove(filepath.Join(dir, LockFile))
	os.WriteFile(filepath.Join(dir, "notes"), []byte("mine"), 0o644)
	linktest.Symlink(t, "notes", filepath.Join(dir, LockFile))
	_, err := LockDir(dir)
	var no *NotOursError
	if !errors.As(err, &no) {
		t.Fatalf("a lock file linked inside: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes")); string(b) != "mine" {
		t.Errorf("the linked file was written: %q", b)
	}
}

func TestNotOursNamesThePath(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("secret\n"), 0o600)
	linktest.Symlink(t, secret, filepath.Join(dir, TempLogFile))
	f, err := OpenTempLog(dir)
	if err == nil {
		f.Close()
	}
	var no *NotOursError
	if !errors.As(err, &no) || no.Path != filepath.Join(dir, TempLogFile) || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Fatalf("OpenTempLog over a link: %v", err)
	}
}
