package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
	"github.com/seattletestbed/seattle-installer/native/state"
)

// The attacks of a hostile local user or of a second copy of the
// installer, each against the real binary.

// startBinary starts the real binary without waiting for it.
func startBinary(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := testbin.Command(context.Background(), binPath, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errb
}

// oneVessel is a vesselinfo other than the sample: one vessel, 100 %.
const oneVessel = "Percent 100\nOwner 5 33\n"

// TestConcurrentRunsInOneDirectory starts 2 to 4 installs at once (within
// 0-15 ms), some with another vesselinfo, into one directory, and in some
// rounds an uninstall among them. Every round must end in exactly one
// complete install that uninstall removes (or, when the uninstall came
// last, none), no run may exit 0 unless its own install is complete, and
// no run's log may appear in another's.
func TestConcurrentRunsInOneDirectory(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(installSample)
	if err != nil {
		t.Fatal(err)
	}
	// 50 rounds natively; under an emulator, where each run costs a second
	// of CPU, 15: every mix of 2, 3 and 4 runs with and without the
	// uninstall (round%3, round%5) once, with the same checks, while the
	// native run of the same make test looks for rarer interleavings.
	rounds := 50
	if testbin.Emulated() {
		rounds = 15
	}
	for round := range rounds {
		dir := filepath.Join(t.TempDir(), "node")
		vis := t.TempDir()
		n := 2 + round%3
		withUninstall := round%5 == 4
		type run struct {
			cmd       *exec.Cmd
			out, errb *bytes.Buffer
			vi        string // its vesselinfo, "" for the uninstall
			vessels   int
		}
		var runs []run
		for i := range n {
			vi := filepath.Join(vis, fmt.Sprintf("vesselinfo-round%d-run%d", round, i))
			text, vessels := string(src), 4
			if i%2 == 1 {
				text, vessels = oneVessel, 1
			}
			if err := os.WriteFile(vi, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd, out, errb := startBinary(t, "install", "--ui", "none", "--dir", dir, "--vesselinfo", vi, "--measured", installMeasured)
			runs = append(runs, run{cmd, out, errb, vi, vessels})
			time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond / time.Duration(n))
		}
		if withUninstall {
			cmd, out, errb := startBinary(t, "uninstall", "--dir", dir)
			runs = append(runs, run{cmd: cmd, out: out, errb: errb})
		}
		var winners []int
		uninstalled := false
		for i, r := range runs {
			r.cmd.Wait()
			code := r.cmd.ProcessState.ExitCode()
			e := r.errb.String()
			switch {
			case r.vi == "" && code == exitOK:
				uninstalled = true
			case r.vi == "":
				if !strings.Contains(e, "another install is running in "+dir+" (pid ") && !strings.Contains(e, "nothing to remove") && !strings.Contains(e, "does not exist") {
					t.Fatalf("round %d: the uninstall failed in another way: exit %d\n%s", round, code, e)
				}
			case code == exitOK:
				winners = append(winners, i)
			default:
				if !strings.Contains(e, "another install is running in "+dir+" (pid ") && !strings.Contains(e, "already holds a Seattle install") {
					t.Fatalf("round %d: a losing install failed in another way: exit %d\n%s", round, code, e)
				}
			}
		}
		// Runs are serialised: without an uninstall exactly one install
		// wins; with one, a second may follow the uninstall.
		if len(winners) == 0 || len(winners) > 2 || (len(winners) == 2 && !uninstalled) {
			t.Fatalf("round %d: %d installs exited 0 (uninstall succeeded: %v)", round, len(winners), uninstalled)
		}
		files := treeOf(t, dir)
		if _, ok := files["vesseldict"]; !ok {
			if !uninstalled || len(winners) != 1 {
				t.Fatalf("round %d: no install is left, yet %d installs and no uninstall succeeded: %s", round, len(winners), pathsOf(files))
			}
			delete(files, "installInfo.old") // the service log stays
			os.Remove(filepath.Join(dir, "installInfo.old"))
			if len(files) != 0 {
				t.Fatalf("round %d: the uninstall left %s", round, pathsOf(files))
			}
			continue
		}
		log := files["installInfo.old"]
		// The service log outlives an uninstall: after one, it holds the
		// uninstalled install's log too, before the winner's.
		winner, at := -1, -1
		for _, i := range winners {
			if p := strings.LastIndex(log, runs[i].vi); p >= 0 {
				if winner >= 0 && !uninstalled {
					t.Fatalf("round %d: two installs' logs are in installInfo:\n%s", round, log)
				}
				if p > at {
					winner, at = i, p
				}
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: installInfo holds the log of no install that exited 0:\n%s", round, log)
		}
		w := runs[winner]
		want := []string{".seattle-installer.manifest", "installInfo.old", "nodeman.cfg", "resources.offcut", "vesseldict"}
		for k := 1; k <= w.vessels; k++ {
			want = append(want, fmt.Sprintf("resource.v%d", k), fmt.Sprintf("v%d/", k))
		}
		for _, name := range want {
			if _, ok := files[name]; !ok {
				t.Fatalf("round %d: the install exited 0 but %s is missing: %s", round, name, pathsOf(files))
			}
		}
		if len(files) != len(want) {
			t.Fatalf("round %d: the directory holds %s, want exactly %v", round, pathsOf(files), want)
		}
		for i, r := range runs {
			if i != winner && r.vi != "" && strings.Contains(log, r.vi) && !(uninstalled && slices.Contains(winners, i)) {
				t.Fatalf("round %d: run %d's log is inside the winner's installInfo:\n%s", round, i, log)
			}
		}
		if got, want := strings.Count(log, "=== seattle-installer install"), len(winners); got != want {
			t.Fatalf("round %d: installInfo holds %d install logs, want %d", round, got, want)
		}
		r := runBinary(t, "", "uninstall", "--dir", dir)
		if r.code != exitOK {
			t.Fatalf("round %d: uninstall: exit %d\n%s", round, r.code, r.stderr)
		}
		if left := pathsOf(treeOf(t, dir)); left != "installInfo.old" {
			t.Fatalf("round %d: uninstall left %s, want only the service log", round, left)
		}
		os.Remove(filepath.Join(dir, "installInfo.old")) // each round starts empty
	}
}

// TestSecondRunWhileOneHoldsTheDirectory pauses an install half-way (the
// test seam) and runs install and uninstall against it: both fail at once,
// naming the holder's pid, and touch nothing. Killed with -9, the holder's
// lock goes with it, and the next install completes.
func TestSecondRunWhileOneHoldsTheDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "node")
	cmd := testbin.Command(context.Background(), binPath, installArgs(dir)...)
	cmd.Env = append(os.Environ(), state.TestPauseEnv+"=3")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	paused := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "checkpoint 3: ") {
			paused = true
			break
		}
	}
	if !paused {
		t.Fatal("the first install never paused")
	}
	go io.Copy(io.Discard, stderr)
	before := treeOf(t, dir)
	want := fmt.Sprintf("another install is running in %s (pid %d)", dir, cmd.Process.Pid)
	for _, args := range [][]string{installArgs(dir), {"uninstall", "--dir", dir}} {
		r := runBinary(t, "", args...)
		if r.code != exitFail || !strings.Contains(r.stderr, want) {
			t.Errorf("%s while another holds the directory: exit %d, want 1 and %q\n%s", args[0], r.code, want, r.stderr)
		}
	}
	if after := treeOf(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the second runs changed the directory:\nbefore %v\nafter  %v", before, after)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	r := runBinary(t, "", installArgs(dir)...)
	if r.code != exitOK {
		t.Fatalf("install after the holder was killed: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(dir, state.LockFile)); err == nil {
		t.Error("the lock file is left after the install ended")
	}
}

// TestPlantedFilesAreNotFollowed plants, where the install writes or reads
// its own files, a link to a file outside (the log, the service log), a
// named pipe, and another user's file. Each install fails naming the path,
// the targets are untouched, and nothing of theirs ends up in the directory.
func TestPlantedFilesAreNotFollowed(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	target := writeIn(t, outside, "target", "precious\n")
	secret := writeIn(t, outside, "secret", "the root password\n")
	os.Chmod(secret, 0o600)
	nobody := lookupNobody(t)
	for _, tc := range []struct {
		name  string
		plant func(dir string)
		want  string
	}{
		{"log linked outside", func(dir string) { os.Symlink(target, filepath.Join(dir, state.TempLogFile)) }, state.TempLogFile + " is a symbolic link"},
		{"service log linked to a secret", func(dir string) { os.Symlink(secret, filepath.Join(dir, state.ServiceLogFile)) }, state.ServiceLogFile + " is a symbolic link"},
		{"service log linked inside", func(dir string) {
			writeIn(t, dir, "notes", "mine\n")
			os.Symlink("notes", filepath.Join(dir, state.ServiceLogFile))
		}, state.ServiceLogFile + " is a symbolic link"},
		{"log is a named pipe", func(dir string) { syscall.Mkfifo(filepath.Join(dir, state.TempLogFile), 0o644) }, state.TempLogFile + " is a named pipe"},
		{"log of another user", func(dir string) {
			p := writeIn(t, dir, state.TempLogFile, "theirs\n")
			os.Chown(p, nobody, nobody)
		}, state.TempLogFile + " belongs to another user"},
		{"service log of another user", func(dir string) {
			p := writeIn(t, dir, state.ServiceLogFile, "theirs\n")
			os.Chown(p, nobody, nobody)
		}, state.ServiceLogFile + " belongs to another user"},
		{"staging directory is a link", func(dir string) { os.Symlink(outside, filepath.Join(dir, ".seattle-installer.staging")) }, ".seattle-installer.staging is a symbolic link"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			tc.plant(dir)
			before := treeOfNoFollow(t, dir)
			r := runBinary(t, "", installArgs(dir)...)
			if r.code != exitFail || !strings.Contains(r.stderr, filepath.Join(dir, tc.want)) {
				t.Errorf("exit %d, want 1 and %q\n%s", r.code, filepath.Join(dir, tc.want), r.stderr)
			}
			if b, _ := os.ReadFile(target); string(b) != "precious\n" {
				t.Errorf("the target outside was written: %q", b)
			}
			if b, _ := os.ReadFile(secret); string(b) != "the root password\n" {
				t.Errorf("the secret was changed: %q", b)
			}
			after := treeOfNoFollow(t, dir)
			for name, text := range after {
				if strings.Contains(text, "root password") {
					t.Errorf("%s holds the secret", name)
				}
			}
			if _, ok := after["vesseldict"]; ok {
				t.Error("a vesseldict was written")
			}
			for name := range after {
				if _, ok := before[name]; !ok && name != state.TempLogFile {
					t.Errorf("%s was left behind", name)
				}
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 2 {
				t.Errorf("the directory outside holds %d entries, want the 2 planted", len(ents))
			}
		})
	}
}

// treeOfNoFollow is treeOf that records links, pipes and others' files by
// their type instead of reading them.
func treeOfNoFollow(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.Type().IsRegular():
			b, _ := os.ReadFile(p)
			out[e.Name()] = string(b)
		default:
			out[e.Name()] = e.Type().String()
		}
	}
	return out
}

// TestUninstallDoesNotFollowAVesselDirectoryLink replaces v1/ after an
// install by a link to a directory outside that holds a file named like one
// the install wrote into v1/: uninstall keeps it, says so, and exits 1.
func TestUninstallDoesNotFollowAVesselDirectoryLink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	layer := t.TempDir()
	writeIn(t, layer, "encasementlib.r2py", "layer")
	if r := runBinary(t, "", installArgs(dir, "--repy-prepend-dir", layer)...); r.code != exitOK {
		t.Fatalf("install: %s", r.stderr)
	}
	outside := t.TempDir()
	victim := writeIn(t, outside, "encasementlib.r2py", "someone else's file")
	if err := os.RemoveAll(filepath.Join(dir, "v1")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "v1")); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, "", "uninstall", "--dir", dir)
	if r.code != exitFail {
		t.Errorf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("uninstall removed a file outside the install: %v", err)
	}
	for _, s := range []string{"kept v1/encasementlib.r2py: v1 is a symbolic link now", "kept v1: it is a symbolic link now", "removed " + filepath.Join(dir, "v2", "encasementlib.r2py")} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "not removed") {
		t.Errorf("stderr does not say what was not removed:\n%s", r.stderr)
	}
	if got := pathsOf(treeOfNoFollow(t, dir)); got != "installInfo.old v1" {
		t.Errorf("after uninstall the directory holds %s, want only the service log and the link v1", got)
	}
}

// TestRootRefusesDirectoriesOthersCanWrite: as root, an install directory
// below one that every user may write (no sticky bit), or that belongs to
// another user, is refused before anything is written; below /tmp (sticky)
// it is fine.
func TestRootRefusesDirectoriesOthersCanWrite(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("the refusal applies to root only; make test runs as root in CI")
	}
	nobody := lookupNobody(t)
	open := filepath.Join(t.TempDir(), "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o777)
	theirs := filepath.Join(t.TempDir(), "theirs")
	os.Mkdir(theirs, 0o755)
	os.Chown(theirs, nobody, nobody)
	sticky := filepath.Join(t.TempDir(), "sticky")
	os.Mkdir(sticky, 0o755)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	for _, tc := range []struct {
		dir, want string
	}{
		{filepath.Join(open, "node"), open + " (above the install directory " + filepath.Join(open, "node") + ") may be written by every user"},
		{theirs, theirs + " belongs to the user nobody"},
		{filepath.Join(theirs, "node"), theirs + " (above the install directory"},
	} {
		r := runBinary(t, "", installArgs(tc.dir)...)
		if r.code != exitFail || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "/opt/seattle") {
			t.Errorf("install into %s: exit %d, want 1 and %q\n%s", tc.dir, r.code, tc.want, r.stderr)
		}
		if _, err := os.Lstat(filepath.Join(tc.dir, state.TempLogFile)); err == nil {
			t.Errorf("install into %s wrote its log", tc.dir)
		}
	}
	if ents, _ := os.ReadDir(open); len(ents) != 0 {
		t.Errorf("the refused install created %d entries", len(ents))
	}
	if r := runBinary(t, "", installArgs(filepath.Join(sticky, "node"))...); r.code != exitOK {
		t.Errorf("install below a sticky directory: exit %d\n%s", r.code, r.stderr)
	}
}

func lookupNobody(t *testing.T) int {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody: %v", err)
	}
	id, _ := strconv.Atoi(u.Uid)
	return id
}
