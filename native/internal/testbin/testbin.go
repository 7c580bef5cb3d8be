// Package testbin gives end-to-end tests the real seattle-installer binary
// and runs it the way the platform under test runs programs.
//
// make test builds each binary once per run into one directory and names it
// in SEATTLE_TEST_BIN_DIR, with the names make dist uses
// (seattle-installer-GOOS-GOARCH[.exe], seattle-installer-linux-amd64-webview
// for the cgo build); a test run without it (go test ./... by hand) builds
// what it needs once per test process.
//
// The tests of a foreign build run under an emulator (go test
// -exec qemu-arm): the test binary is emulated, and so must be the installer
// binary it starts. SEATTLE_TEST_EXEC names that same -exec program, and
// Command puts it in front. Under Wine the test binary is a Windows process
// that starts Windows programs itself, so SEATTLE_TEST_EXEC stays empty.
package testbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// DirEnv names the directory of prebuilt binaries; ExecEnv the program that
// runs a binary of the platform under test (an emulator), if any.
const (
	DirEnv  = "SEATTLE_TEST_BIN_DIR"
	ExecEnv = "SEATTLE_TEST_EXEC"
)

// Build is one build of the installer.
type Build struct {
	GOOS, GOARCH string
	// Cgo: the build with the webview window (linux only); otherwise
	// CGO_ENABLED=0, as make dist builds the base installers.
	Cgo bool
}

// Name is the file name of the build, as make dist names it.
func (b Build) Name() string {
	n := "seattle-installer-" + b.GOOS + "-" + b.GOARCH
	if b.Cgo {
		n += "-webview"
	}
	if b.GOOS == "windows" {
		n += ".exe"
	}
	return n
}

// Native is the build most end-to-end tests run: the CGO_ENABLED=0 build
// of the platform the test binary was compiled for. It starts in a few
// milliseconds, where the webview build spends a third of a second loading
// WebKitGTK, which tests that start the binary hundreds of times notice.
func Native() Build { return Build{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH} }

// Webview is the build with the window (cgo, WebKitGTK) for this platform.
func Webview() Build { return Build{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Cgo: true} }

var (
	mu       sync.Mutex
	built    = map[Build]string{}
	failed   = map[Build]error{}
	buildDir string
)

// Path returns the binary of b: the prebuilt one in $SEATTLE_TEST_BIN_DIR
// when there is one, otherwise a build made once per test process (see
// Cleanup). The test fails when it cannot be had.
func Path(tb testing.TB, b Build) string {
	tb.Helper()
	p, err := Get(b)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Get is Path for TestMain, where there is no test to fail.
func Get(b Build) (string, error) {
	if dir := os.Getenv(DirEnv); dir != "" {
		p := filepath.Join(dir, b.Name())
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[b]; ok {
		return p, nil
	}
	if err, ok := failed[b]; ok {
		return "", err
	}
	p, err := build(b)
	if err != nil {
		failed[b] = err
		return "", err
	}
	built[b] = p
	return p, nil
}

// build runs go build for b from the module's root. GOOS and GOARCH are set
// from b, never inherited: a test run for GOARCH=arm must still be able to
// ask for a linux/amd64 build, and the cgo build needs the host's compiler.
func build(b Build) (string, error) {
	if buildDir == "" {
		d, err := os.MkdirTemp("", "seattle-installer-testbin")
		if err != nil {
			return "", err
		}
		buildDir = d
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(buildDir, b.Name())
	cgo := "0"
	if b.Cgo {
		cgo = "1"
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, "./native/cmd/seattle-installer")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS="+b.GOOS, "GOARCH="+b.GOARCH, "CGO_ENABLED="+cgo)
	if b.GOARCH == "arm" && os.Getenv("GOARM") == "" {
		cmd.Env = append(cmd.Env, "GOARM=7")
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", b.Name(), err, msg)
	}
	return out, nil
}

// moduleRoot is the directory of go.mod above the working directory (a
// package's directory, when go test runs).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// Cleanup removes the builds Path made; TestMain calls it after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir = ""
		built = map[Build]string{}
	}
}

// Emulated tells whether the tests run under an emulator ($SEATTLE_TEST_EXEC
// is set, as make test-arm sets it for qemu), where every instruction costs
// ten to fifty times more. A test whose work does not depend on the
// architecture (what Chromium draws at each screen size) may do less of it
// there, having done all of it in the native run of the same make test; it
// still checks everything it does.
func Emulated() bool { return os.Getenv(ExecEnv) != "" }

// Argv is how to run the binary bin with args on the platform under test:
// behind the $SEATTLE_TEST_EXEC program (its words split at spaces) when one
// is set.
func Argv(bin string, args ...string) []string {
	argv := strings.Fields(os.Getenv(ExecEnv))
	return append(append(argv, bin), args...)
}

// Command is exec.CommandContext for the binary bin, run through Argv.
func Command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	argv := Argv(bin, args...)
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// Program is bin as one program file that runs on this machine, for tools
// that take a program's path rather than a command line (a script that
// runs the installer, say): bin itself, or, behind $SEATTLE_TEST_EXEC, a
// shell script in a test's temporary directory that runs bin through it.
func Program(tb testing.TB, bin string) string {
	tb.Helper()
	if os.Getenv(ExecEnv) == "" {
		return bin
	}
	quoted := make([]string, 0, 2)
	for _, w := range Argv(bin) {
		quoted = append(quoted, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
	}
	p := filepath.Join(tb.TempDir(), filepath.Base(bin))
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexec "+strings.Join(quoted, " ")+` "$@"`+"\n"), 0o755); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Result is what one run of a binary printed and returned.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs bin with args (through Command) and stdin, and returns what it
// printed and its exit code. It fails the test only when bin cannot run at
// all, or runs for more than a minute.
func Run(tb testing.TB, bin, stdin string, args ...string) Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := Command(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		tb.Fatalf("run %s %v: %v", filepath.Base(bin), args, err)
	}
	return Result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}
