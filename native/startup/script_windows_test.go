//go:build windows

package startup

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

type scriptKind int

const (
	stays    scriptKind = iota // writes "ran in DIR" to ran, "child PID" to child, "started" to its output, and stays up
	fails                      // prints "python not found" and exits 3 at once
	detaches                   // starts a child in the background, which writes "child PID" to child, and ends
)

// spawnEnv makes the test binary a start command that starts a child
// (childEnv) and ends at once. It stands for a start_seattle.bat that runs
// "start /b" and ends: on Windows cmd.exe starts that child itself, but
// Wine's cmd runs START through start.exe, which ends too (WINEDEBUG=
// +process shows cmd -> start.exe -> the program), and a child whose
// parent has ended cannot be told from a stranger that reused its pid.
const spawnEnv = "SEATTLE_STARTUP_TEST_SPAWN"

// childEnv makes the test binary the start script's child: it writes its
// pid to the directory named and waits to be stopped. (cmd.exe has no
// "start in the background and tell me its pid", as sh has "&" and "$!".)
const childEnv = "SEATTLE_STARTUP_TEST_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(spawnEnv); dir != "" {
		exe, _ := os.Executable()
		child := exec.Command(exe)
		child.Env = append(os.Environ(), spawnEnv+"=", childEnv+"="+dir)
		child.Stdout, child.Stderr = os.Stdout, os.Stderr
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if dir := os.Getenv(childEnv); dir != "" {
		os.WriteFile(filepath.Join(dir, "child"), []byte(fmt.Sprintf("child %d\n", os.Getpid())), 0o644)
		time.Sleep(5 * time.Minute)
		return
	}
	os.Exit(m.Run())
}

// startScript writes a start_seattle.bat of that kind into dir: the start
// script a Windows install ships, run by cmd.exe (detaches: the test
// binary, see spawnEnv).
func startScript(t *testing.T, dir string, kind scriptKind) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text := map[scriptKind]string{
		stays: "@echo off\r\necho ran in %CD%> ran\r\necho started\r\nset " + childEnv + "=%CD%\r\n\"" + exe + "\"\r\n",
		fails: "@echo off\r\necho python not found 1>&2\r\nexit /b 3\r\n",
	}[kind]
	if kind == detaches {
		t.Setenv(spawnEnv, dir)
		return exe
	}
	p := filepath.Join(dir, "start_seattle.bat")
	if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// childRunning reports whether the process pid runs.
func childRunning(pid int) bool { return Running(Process{PID: pid}) }
