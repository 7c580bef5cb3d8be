package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
)

// binPath is the real binary for the platform under test, built once per
// run (see testbin) for the end-to-end tests of every subcommand here.
var binPath string

func TestMain(m *testing.M) {
	p, err := testbin.Get(testbin.Native())
	if err != nil {
		fmt.Fprintln(os.Stderr, "the binary under test:", err)
		os.Exit(2)
	}
	binPath = p
	// A short benchmark for every run of the binary: the tests check what
	// it reports, not figures that need its full length (the two that
	// need it unset this).
	os.Setenv(benchmarkTimeEnv, "500ms")
	// And 1024-bit keys (the smallest the flag allows) where no test looks
	// at the size: TestInstallEndToEnd checks the default size with this
	// unset.
	os.Setenv(keyBitsEnv, "1024")
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// Tests that only run the binary, each in directories of its own, call
// t.Parallel: most of their time is spent in the binary (under qemu, in its
// emulation), so two run at once on two cores. Tests stay sequential (Go
// runs them first, one at a time) when they change this process's
// environment (t.Setenv, a fake systemctl on PATH), the user's crontab or
// mounts, time or interrupt the benchmark, count what this process
// allocates, or drive a window or Chromium, whose waits a busy machine
// stretches.

// runResult is what one run of the real binary printed and returned.
type runResult struct {
	stdout, stderr string
	code           int
}

// runBinary runs the real binary with args and stdin (see testbin.Run).
func runBinary(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	r := testbin.Run(t, binPath, stdin, args...)
	return runResult{r.Stdout, r.Stderr, r.Code}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		code int
		in   string // expected in stdout or stderr
	}{
		{"help", []string{"--help"}, exitOK, "Commands:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"validate without file", []string{"validate"}, exitUsage, "give exactly one FILE"},
		{"validate bad flag", []string{"validate", "--nope", "x"}, exitUsage, "flag provided but not defined"},
		{"validate missing file", []string{"validate", "/nonexistent/vesselinfo"}, exitUsage, "no such file"},
		{"validate a directory", []string{"validate", "/"}, exitUsage, "is a directory"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := runBinary(t, "", tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			want := tc.in
			if want == "no such file" {
				want = notFound(tc.args[len(tc.args)-1])
			}
			if !strings.Contains(r.stdout+r.stderr, want) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", want, r.stdout, r.stderr)
			}
		})
	}
}

// notFound is what an error about the missing path says on this OS:
// "no such file" on Linux; Windows words it otherwise (and Wine otherwise
// again), so there the message must name the path.
func notFound(path string) string {
	if runtime.GOOS == "windows" {
		return path
	}
	return "no such file"
}

// exeName is name as a program file on this OS (name.exe on Windows).
func exeName(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}
