package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests make a real node start: a bundle whose start_seattle.sh is a
// script written here, which records that it ran and stays up. Start at
// boot goes into root's real crontab (cron from Debian, installed by
// scripts/install-deps), or into a systemd user unit in a temporary
// XDG_CONFIG_HOME; systemd itself does not run on this machine, so a
// systemctl on PATH stands in for it and records what it was asked.

const nodeScript = "#!/bin/sh\necho \"ran $$\" >> ran\nexec sleep 600\n"

// bundle is an install directory as a donor unpacks it: the node's start
// script beside where the state goes.
func bundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeIn(t, dir, "start_seattle.sh", nodeScript)
	os.Chmod(filepath.Join(dir, "start_seattle.sh"), 0o755)
	return dir
}

// fakeSystemctl puts a systemctl first on PATH. With works, it succeeds
// and appends its arguments to the returned log; without, it fails the
// way systemctl does without a user session, so the installer uses cron.
func fakeSystemctl(t *testing.T, works bool) (log string) {
	t.Helper()
	bin := t.TempDir()
	log = filepath.Join(bin, "calls")
	script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\n"
	if !works {
		script += "echo 'Failed to connect to bus: No medium found' >&2\nexit 1\n"
	}
	writeIn(t, bin, "systemctl", script)
	os.Chmod(filepath.Join(bin, "systemctl"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	return log
}

// keepCrontab holds this user's crontab for the test: it waits for any
// other test run on this machine that holds it (make test runs the ARM
// builds' tests beside the native ones; other checkouts' runs may too),
// and restores the crontab when the test ends.
func keepCrontab(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("crontab"); err != nil {
		t.Fatal("crontab is missing: scripts/install-deps installs Debian's cron")
	}
	lockCrontab(t)
	out, err := exec.Command("crontab", "-l").CombinedOutput()
	before := string(out)
	if err != nil {
		before = ""
	}
	t.Cleanup(func() { setCrontab(before) })
	return before
}

// crontabLock is the file whose lock (flock) the tests take while they
// change this user's crontab, one test of one run at a time.
var crontabLock = filepath.Join(os.TempDir(), fmt.Sprintf("seattle-installer-tests-crontab-%d.lock", os.Getuid()))

func lockCrontab(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(crontabLock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatalf("the crontab tests' lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", crontabLock, err)
	}
	t.Cleanup(func() { f.Close() }) // after the crontab is restored (cleanups run last first)
}

func crontab(t *testing.T) string {
	out, err := exec.Command("crontab", "-l").CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

var pidRE = regexp.MustCompile(`The node is running \(pid (\d+)\)`)

// nodePID is the pid the installer reported; the test stops it at the end
// whatever happens.
func nodePID(t *testing.T, stdout string) int {
	t.Helper()
	m := pidRE.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("the installer reports no running node:\n%s", stdout)
	}
	pid, _ := strconv.Atoi(m[1])
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	return pid
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ")
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	t.Errorf("the node (pid %d) still runs", pid)
}

func TestNodeStartsNowAndAtBootWithCron(t *testing.T) {
	fakeSystemctl(t, false)
	before := keepCrontab(t)
	dir := bundle(t)
	r := runBinary(t, "", installArgs(dir, "--nm-key-bitsize", "1024")...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	pid := nodePID(t, r.stdout)
	if !alive(pid) {
		t.Fatalf("pid %d is not running", pid)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ran")); string(b) != fmt.Sprintf("ran %d\n", pid) {
		t.Errorf("the start script recorded %q, want it ran as pid %d", b, pid)
	}
	for _, s := range []string{"It starts at boot through an @reboot line in this user's crontab.", "To stop it and remove the install: seattle-installer uninstall --dir " + dir} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	tab := crontab(t)
	line := ""
	for _, l := range strings.Split(tab, "\n") {
		if strings.Contains(l, filepath.Join(dir, "start_seattle.sh")) {
			line = l
		}
	}
	if !strings.HasPrefix(line, "@reboot ") || tab != before+line+"\n" {
		t.Fatalf("crontab before:\n%s\nafter:\n%s", before, tab)
	}
	// What cron runs at boot starts the node too: run the line's command.
	cmd := strings.TrimPrefix(strings.SplitN(line, " # ", 2)[0], "@reboot ")
	if out, err := exec.Command("sh", "-c", cmd+" &").CombinedOutput(); err != nil {
		t.Errorf("the crontab command fails: %v %s", err, out)
	}
	var second int
	for deadline := time.Now().Add(10 * time.Second); second == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(dir, "ran"))
		if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) == 2 {
			fmt.Sscanf(lines[1], "ran %d", &second)
		}
	}
	if second == 0 {
		t.Error("the crontab command did not start the node")
	} else {
		syscall.Kill(second, syscall.SIGKILL)
	}

	u := runBinary(t, "", "uninstall", "--dir", dir)
	if u.code != exitOK {
		t.Fatalf("uninstall: exit %d\n%s\n%s", u.code, u.stdout, u.stderr)
	}
	for _, s := range []string{fmt.Sprintf("stopped the node (pid %d)", pid), "removed the start at boot: an @reboot line in this user's crontab"} {
		if !strings.Contains(u.stdout, s) {
			t.Errorf("uninstall stdout lacks %q:\n%s", s, u.stdout)
		}
	}
	waitGone(t, pid)
	if got := crontab(t); got != before {
		t.Errorf("uninstall left the crontab\n%s\nwant\n%s", got, before)
	}
}

func TestNodeCronCheck(t *testing.T) {
	fakeSystemctl(t, false)
	keepCrontab(t)
	dir := bundle(t)
	r := runBinary(t, "", installArgs(dir, "--nm-key-bitsize", "1024", "--no-start")...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	out, _ := exec.Command("sh", "-c", "cat /proc/[0-9]*/comm 2>/dev/null | grep -x -e cron -e crond").Output()
	running := len(out) > 0
	note := "ron does not seem to be running"
	if strings.Contains(r.stdout, note) == running {
		t.Errorf("cron running = %v, but the summary says:\n%s", running, r.stdout)
	}
	if !strings.Contains(r.stdout, "The node is not running: --no-start was given.") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("--no-start started the node")
	}
	if u := runBinary(t, "", "uninstall", "--dir", dir); u.code != exitOK {
		t.Fatalf("uninstall: %s", u.stderr)
	}
}

func TestNodeSystemdUserUnit(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err == nil && os.Geteuid() == 0 {
		t.Skip("this machine runs systemd and the test runs as root: the installer would write a real system unit")
	}
	calls := fakeSystemctl(t, true)
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	before := keepCrontab(t)
	dir := bundle(t)
	r := runBinary(t, "", installArgs(dir, "--nm-key-bitsize", "1024", "--no-start")...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	units, _ := filepath.Glob(filepath.Join(xdg, "systemd", "user", "*.service"))
	if len(units) != 1 {
		t.Fatalf("units: %v", units)
	}
	unit, _ := os.ReadFile(units[0])
	for _, s := range []string{"ExecStart=\"" + filepath.Join(dir, "start_seattle.sh") + "\"", "WorkingDirectory=" + dir, "WantedBy=default.target"} {
		if !strings.Contains(string(unit), s) {
			t.Errorf("the unit lacks %q:\n%s", s, unit)
		}
	}
	if !strings.Contains(r.stdout, "It starts at boot through a systemd user unit, "+units[0]+" (enabled).") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	name := filepath.Base(units[0])
	if b, _ := os.ReadFile(calls); !strings.Contains(string(b), "--user enable "+name+"\n") {
		t.Errorf("systemctl was asked:\n%s", b)
	}
	if crontab(t) != before {
		t.Error("the crontab changed too")
	}
	u := runBinary(t, "", "uninstall", "--dir", dir)
	if u.code != exitOK || !strings.Contains(u.stdout, "removed the start at boot: a systemd user unit, "+units[0]) {
		t.Fatalf("uninstall: exit %d\n%s\n%s", u.code, u.stdout, u.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(xdg, "systemd", "user", "*")); len(left) != 0 {
		t.Errorf("left %v", left)
	}
	if b, _ := os.ReadFile(calls); !strings.Contains(string(b), "--user disable "+name+"\n") {
		t.Errorf("systemctl was asked:\n%s", b)
	}
}

// TestNodeKilledAfterTheCommit kills the installer (SIGKILL) at each
// checkpoint after the state's commit: before and after registering at
// boot, before and after starting the node. The install is complete at
// each (nodeman.cfg says installed and has its keys); a rerun finishes
// what was left, with one crontab line and one node; uninstall takes it
// all back.
func TestNodeKilledAfterTheCommit(t *testing.T) {
	fakeSystemctl(t, false)
	before := keepCrontab(t)
	args := func(dir string) []string { return installArgs(dir, "--nm-key-bitsize", "1024") }
	// The checkpoints after the commit are the last ones: count them all.
	lo, hi := 1, 512
	for lo < hi { // the smallest n at which the run does not pause
		mid := (lo + hi) / 2
		dir := bundle(t)
		cp, _ := pausedRun(t, mid, args(dir)...)
		stopAllIn(dir)
		setCrontab(before)
		if cp == "" {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	last := lo - 1
	want := []string{"register the node to start at boot", "registered the node to start at boot", "start the node", "started the node"}
	for i, name := range want {
		n := last - len(want) + 1 + i
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dir := bundle(t)
			cp, _ := pausedRun(t, n, args(dir)...)
			defer stopAllIn(dir)
			if cp != name {
				t.Fatalf("checkpoint %d is %q, want %q", n, cp, name)
			}
			cfg, _ := os.ReadFile(filepath.Join(dir, "nodeman.cfg"))
			if !strings.Contains(string(cfg), "'seattle_installed': True") || !strings.Contains(string(cfg), "'privatekey': {'d': ") {
				t.Errorf("killed at %q: nodeman.cfg is not complete:\n%s", name, cfg)
			}
			if _, err := os.Stat(filepath.Join(dir, "vesseldict")); err != nil {
				t.Errorf("killed at %q: no vesseldict", name)
			}
			r := runBinary(t, "", args(dir)...)
			switch {
			case name == "started the node":
				if r.code != exitFail || !strings.Contains(r.stderr, "already holds a Seattle install") {
					t.Errorf("rerun after everything was done: exit %d\n%s", r.code, r.stderr)
				}
			case r.code != exitOK || !strings.Contains(r.stdout, "this run finished it") || !strings.Contains(r.stdout, "The node is running"):
				t.Fatalf("rerun: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if n := strings.Count(crontab(t), "cd '"+dir+"'"); n != 1 {
				t.Errorf("the crontab has %d lines for this node:\n%s", n, crontab(t))
			}
			ran, _ := os.ReadFile(filepath.Join(dir, "ran"))
			if strings.Count(string(ran), "ran ") != 1 {
				t.Errorf("the node was started %d times", strings.Count(string(ran), "ran "))
			}
			var pid int
			fmt.Sscanf(string(ran), "ran %d", &pid)
			u := runBinary(t, "", "uninstall", "--dir", dir)
			if u.code != exitOK || !strings.Contains(u.stdout, fmt.Sprintf("stopped the node (pid %d)", pid)) {
				t.Fatalf("uninstall: exit %d\n%s\n%s", u.code, u.stdout, u.stderr)
			}
			waitGone(t, pid)
			if got := crontab(t); got != before {
				t.Errorf("crontab after uninstall:\n%s", got)
			}
		})
	}
}

func setCrontab(text string) {
	if text == "" {
		exec.Command("crontab", "-r").Run()
		return
	}
	c := exec.Command("crontab", "-")
	c.Stdin = strings.NewReader(text)
	c.Run()
}

// stopAllIn kills every node a test started in dir (their pids are in "ran").
func stopAllIn(dir string) {
	b, _ := os.ReadFile(filepath.Join(dir, "ran"))
	for _, l := range strings.Split(string(b), "\n") {
		var pid int
		if _, err := fmt.Sscanf(l, "ran %d", &pid); err == nil && pid > 1 {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}
