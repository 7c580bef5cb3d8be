//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
)

// TestValidateUnreadableFile: a file without read permission is an I/O
// error (exit 2). Root reads anything, so as root the binary runs as nobody.
func TestValidateUnreadableFile(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "validate-perm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Traversable by nobody: the directory, a copy of the binary, the file.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "seattle-installer")
	data, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "vesselinfo")
	if err := os.WriteFile(path, []byte(validFile), 0o000); err != nil {
		t.Fatal(err)
	}
	cmd := testbin.Command(context.Background(), bin, "validate", path)
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("run: %v", err)
	}
	if code := cmd.ProcessState.ExitCode(); code != exitUsage {
		t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitUsage, out.String(), errb.String())
	}
	if want := "validate: open " + path + ": permission denied\n"; errb.String() != want {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}
}
