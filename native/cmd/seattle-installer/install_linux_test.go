package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
)

// openPTY opens a pseudo-terminal: the test holds the master side, the
// installer gets the terminal side as its standard input and error, as if a
// donor ran it in a terminal window.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("name the pty: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// screen collects what the installer draws on the terminal.
type screen struct{ syncBuffer }

func (s *screen) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q; it shows:\n%s", text, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInstallAsksOnATerminal runs the real binary on a real pseudo-terminal:
// a measurement fails, the installer asks, the donor types an unclear
// answer, is asked again, and types yes; the progress bar is drawn on the
// terminal and the plan goes to standard output.
func TestInstallAsksOnATerminal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []string
		code    int
	}{
		{"yes_after_an_unclear_answer", []string{"perhaps\n", "yes\n"}, exitOK},
		{"no", []string{"n\n"}, exitFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, tty := openPTY(t)
			dir := t.TempDir()
			negative := writeIn(t, t.TempDir(), "negative.json", negativeMeasurements)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := testbin.Command(ctx, binPath, "install", "--ui", "none", "--dir", dir, "--vesselinfo", installSample, "--measured", negative)
			var stdout bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, tty
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tty.Close()
			scr := &screen{}
			go func() {
				b := make([]byte, 4096)
				for {
					n, err := master.Read(b)
					scr.Write(b[:n])
					if err != nil {
						return
					}
				}
			}()
			scr.waitFor(t, "Continue the install with safe default values instead? [yes/no]")
			for i, a := range tc.answers {
				master.Write([]byte(a))
				if i < len(tc.answers)-1 {
					scr.waitFor(t, "Please enter either yes or no")
				}
			}
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Fatalf("exit %d, want %d\nterminal:\n%s\nstdout:\n%s", code, tc.code, scr.String(), stdout.String())
			}
			if !strings.Contains(scr.String(), "memory") || !strings.Contains(scr.String(), "%") {
				t.Errorf("the terminal shows no progress bar:\n%q", scr.String())
			}
			_, err := os.Stat(filepath.Join(dir, "vesseldict"))
			if installed := err == nil; installed != (tc.code == exitOK) {
				t.Errorf("installed = %v after exit %d", installed, tc.code)
			}
			if tc.code == exitOK && !strings.Contains(stdout.String(), "Plan: 10% of this machine") {
				t.Errorf("stdout lacks the plan:\n%s", stdout.String())
			}
		})
	}
}
