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
// the installer measures, shows the plan (and any failed measurement with
// the default used instead) and asks "Install? [Y/n]" before it writes
// anything; an unclear answer asks again, Enter installs, n writes nothing.
// --yes does not ask, and --dry-run stops at the plan.
func TestInstallAsksOnATerminal(t *testing.T) {
	t.Parallel()
	const failedQuestion = "1 measurement failed; the plan uses safe default values for it. Install? [Y/n]"
	for _, tc := range []struct {
		name     string
		bad      bool     // a measurement fails
		flags    []string // more flags
		question string   // "" for none
		answers  []string
		code     int
		written  bool
	}{
		{"yes_after_an_unclear_answer", true, nil, failedQuestion, []string{"perhaps\n", "yes\n"}, exitOK, true},
		{"no", true, nil, failedQuestion, []string{"n\n"}, exitFail, false},
		{"enter_installs", false, nil, "Install? [Y/n]", []string{"\n"}, exitOK, true},
		{"no_to_a_good_plan", false, nil, "Install? [Y/n]", []string{"no\n"}, exitFail, false},
		{"yes_flag_does_not_ask", true, []string{"--yes"}, "", nil, exitOK, true},
		{"dry_run_stops_at_the_plan", false, []string{"--dry-run"}, "", nil, exitOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, tty := openPTY(t)
			dir := t.TempDir()
			measurements := installMeasured
			if tc.bad {
				measurements = writeIn(t, t.TempDir(), "negative.json", negativeMeasurements)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := append([]string{"install", "--ui", "none", "--dir", dir, "--vesselinfo", installSample, "--measured", measurements}, tc.flags...)
			cmd := testbin.Command(ctx, binPath, args...)
			var stdout bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, tty
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tty.Close()
			scr := &screen{}
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				b := make([]byte, 4096)
				for {
					n, err := master.Read(b)
					scr.Write(b[:n])
					if err != nil {
						return
					}
				}
			}()
			if tc.question != "" {
				scr.waitFor(t, tc.question)
				// The plan is on the screen before the question, and nothing
				// is written while it waits.
				shown := scr.String()
				if i := strings.Index(shown, "Plan: 10% of this computer"); i < 0 || i > strings.Index(shown, tc.question) {
					t.Errorf("the plan is not shown before the question:\n%s", shown)
				}
				if tc.bad && !strings.Contains(shown, "Not measured (the safe default is used instead):") {
					t.Errorf("the failed measurement is not shown:\n%s", shown)
				}
				if _, err := os.Stat(filepath.Join(dir, "vesseldict")); err == nil {
					t.Error("the vesseldict exists before the donor answered")
				}
			}
			for i, a := range tc.answers {
				master.Write([]byte(a))
				if i < len(tc.answers)-1 {
					scr.waitFor(t, "Please enter either yes or no")
				}
			}
			cmd.Wait()
			// The installer has exited and the test closed its own terminal
			// side: the master reads what is left, then fails.
			select {
			case <-drained:
			case <-time.After(30 * time.Second):
				t.Fatal("the terminal was not drained within 30 s")
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Fatalf("exit %d, want %d\nterminal:\n%s\nstdout:\n%s", code, tc.code, scr.String(), stdout.String())
			}
			if !strings.Contains(scr.String(), "%") {
				t.Errorf("the terminal shows no progress bar:\n%q", scr.String())
			}
			if tc.question == "" && strings.Contains(scr.String(), "[Y/n]") {
				t.Errorf("%v asked:\n%s", tc.flags, scr.String())
			}
			_, err := os.Stat(filepath.Join(dir, "vesseldict"))
			if installed := err == nil; installed != tc.written {
				t.Errorf("installed = %v after exit %d", installed, tc.code)
			}
			if tc.question == "" && !strings.Contains(stdout.String(), "Plan: 10% of this computer") {
				t.Errorf("stdout lacks the plan:\n%s", stdout.String())
			}
		})
	}
}
