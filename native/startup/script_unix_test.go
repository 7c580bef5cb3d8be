//go:build !windows

package startup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type scriptKind int

const (
	stays    scriptKind = iota // writes "ran in DIR" to ran, "child PID" to child, "started" to its output, and stays up
	fails                      // prints "python not found" and exits 3 at once
	detaches                   // starts a child in the background, which writes "child PID" to child, and ends
)

// startScript writes a start_seattle.sh of that kind into dir.
func startScript(t *testing.T, dir string, kind scriptKind) string {
	t.Helper()
	text := map[scriptKind]string{
		stays:    "#!/bin/sh\necho \"ran in $(pwd)\" > ran\nsleep 300 &\necho child $! > child\necho started\nwait\n",
		detaches: "#!/bin/sh\nsleep 300 &\necho child $! > child\n",
		fails:    "#!/bin/sh\necho 'python not found' >&2\nexit 3\n",
	}[kind]
	p := filepath.Join(dir, "start_seattle.sh")
	if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// childRunning reports whether the process pid runs (a zombie, which its
// parent has not reaped yet, has ended).
func childRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	return !strings.Contains(string(b), ") Z")
}
