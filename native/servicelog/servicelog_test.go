package servicelog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/internal/linktest"
)

func TestTime(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1732950000, 120000000), "1732950000.12"},
		{time.Unix(1732950000, 0), "1732950000.0"},
		{time.Unix(1732950000, 100000000), "1732950000.1"},
		{time.Unix(1732950000, 123456789), "1732950000.12"},
		{time.Unix(12, 500000000), "12.5"},
	} {
		if got := Time(tc.t); got != tc.want {
			t.Errorf("Time(%v) = %s, want %s", tc.t.UnixNano(), got, tc.want)
		}
	}
	if got := Line(time.Unix(1732950000, 120000000), 4321, "installed"); got != "1732950000.12:PID-4321:installed\n" {
		t.Errorf("Line = %q", got)
	}
}

func TestAppendRotates(t *testing.T) {
	n := 0
	next := func() string { n++; return fmt.Sprintf("%07d %s\n", n, strings.Repeat("x", 1000)) }
	var old, new []byte
	var line string
	for len(new) == 0 {
		line = next()
		old, new = Append(old, new, line)
	}
	if len(old) < MaxSize || len(old) > MaxSize+len(line) {
		t.Errorf(".old holds %d bytes when .new starts, want just past %d", len(old), MaxSize)
	}
	first := old
	for i := 0; bytes.Equal(old, first) && i < 10000; i++ {
		line = next()
		old, new = Append(old, new, line)
	}
	if len(old) < MaxSize || string(new) != line {
		t.Errorf("after .new filled: .old %d bytes, .new %q", len(old), new)
	}
	if bytes.Equal(old, first) {
		t.Error(".new did not replace .old")
	}
	// A huge line is written whole.
	o, nw := Append(nil, nil, strings.Repeat("y", 2*MaxSize)+"\n")
	if len(o) != 2*MaxSize+1 || nw != nil {
		t.Errorf("a huge line: %d, %d", len(o), len(nw))
	}
}

func TestLogOnDisk(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1732950000, 120000000)
	if err := logAt(dir, now, 7, "first"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, OldFile))
	if string(b) != "1732950000.12:PID-7:first\n" {
		t.Errorf(".old = %q", b)
	}
	// Fill .old: the next line goes to .new.
	os.WriteFile(filepath.Join(dir, OldFile), bytes.Repeat([]byte("o"), MaxSize), 0o644)
	logAt(dir, now, 7, "second")
	b, _ = os.ReadFile(filepath.Join(dir, NewFile))
	if string(b) != "1732950000.12:PID-7:second\n" {
		t.Errorf(".new = %q", b)
	}
	// Fill .new: it becomes .old and a new .new starts.
	os.WriteFile(filepath.Join(dir, NewFile), bytes.Repeat([]byte("n"), MaxSize), 0o644)
	logAt(dir, now, 7, "third")
	o, n, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(o, bytes.Repeat([]byte("n"), MaxSize)) || string(n) != "1732950000.12:PID-7:third\n" {
		t.Errorf("after rotation: .old %d bytes starting %q, .new %q", len(o), o[:5], n)
	}
}

// TestLogRefusesSymlinks: another user who can write the install directory
// must not make the installer append to, or read, a file of their choice.
func TestLogRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(target, []byte("precious\n"), 0o644)
	linktest.Symlink(t, target, filepath.Join(dir, OldFile))
	if err := Log(dir, "hello"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Log through a symlink: %v", err)
	}
	if _, _, err := Read(dir); err == nil {
		t.Error("Read followed a symlink")
	}
	if b, _ := os.ReadFile(target); string(b) != "precious\n" {
		t.Errorf("the target changed: %q", b)
	}
}

// TestLogRefusesJunctions: on Windows any user may make a junction (a
// directory link) where they may make a directory; one in place of the
// log's file leads nowhere. (Elsewhere the symbolic-link test covers it.)
func TestLogRefusesJunctions(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	for _, name := range []string{OldFile, NewFile} {
		linktest.Junction(t, elsewhere, filepath.Join(dir, name))
	}
	if err := Log(dir, "hello"); err == nil {
		t.Error("Log through a junction succeeded")
	}
	if _, _, err := Read(dir); err == nil {
		t.Error("Read followed a junction")
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("the junction's target got %d entries", len(entries))
	}
}

// TestLogRefusesADirectory: a directory where a log file should be is an
// error naming it, for reading and for writing.
func TestLogRefusesADirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, OldFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Log(dir, "hello"); err == nil || !strings.Contains(err.Error(), OldFile) {
		t.Errorf("Log over a directory: %v", err)
	}
	if _, _, err := Read(dir); err == nil || !strings.Contains(err.Error(), OldFile) {
		t.Errorf("Read of a directory: %v", err)
	}
}
