package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
)

// binPath is the real binary, built once for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "seattle-builder-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binPath = filepath.Join(dir, "seattle-builder")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the binary:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runResult is what one run of the real binary printed and returned.
type runResult struct {
	stdout, stderr string
	code           int
}

// runBinary runs the real binary with args (see testbin.Run).
func runBinary(t *testing.T, args ...string) runResult {
	t.Helper()
	r := testbin.Run(t, binPath, "", args...)
	return runResult{r.Stdout, r.Stderr, r.Code}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		in   string // expected in stdout or stderr
	}{
		{"help", []string{"--help"}, exitOK, "serve"},
		{"no command", nil, exitUsage, "Commands:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := runBinary(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tc.in) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tc.in, r.stdout, r.stderr)
			}
		})
	}
}

// TestInstallerCarriesNoServer keeps the server and its upload page out of
// the donor's installer: they are this program's alone.
func TestInstallerCarriesNoServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../seattle-installer").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps gave %d packages", len(deps))
	}
	for _, d := range deps {
		if strings.HasSuffix(d, "/native/builder") || strings.HasSuffix(d, "/web/upload") {
			t.Errorf("seattle-installer imports %s", d)
		}
	}
	mine, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil || !strings.Contains(string(mine), "/web/upload\n") {
		t.Errorf("seattle-builder does not carry the upload page (go list: %v)", err)
	}
}
