package startup

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/internal/linktest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// A directory with a blank, a quote and a percent sign: every format must
// quote it its own way.
var spec = Spec{Dir: "/home/donor/seattle 100%/node's", Command: "/home/donor/seattle 100%/node's/start_seattle.sh"}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(p, got, 0o644)
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
	}
}

// fakeSystem records the programs it is asked to run; crontab and
// systemctl behave as on a machine where they work.
type fakeSystem struct {
	calls    []string
	crontab  string
	hasTab   bool
	failing  map[string]bool // "systemctl --user enable" etc.
	registry map[string]string
}

func (f *fakeSystem) run(_ context.Context, stdin, name string, args ...string) (string, error) {
	call := strings.Join(append([]string{name}, args...), " ")
	f.calls = append(f.calls, call)
	for prefix := range f.failing {
		if strings.HasPrefix(call, prefix) {
			return "Failed to connect to bus: No medium found", errors.New("exit status 1")
		}
	}
	switch call {
	case "crontab -l":
		if !f.hasTab {
			return "no crontab for donor\n", errors.New("exit status 1")
		}
		return f.crontab, nil
	case "crontab -":
		f.crontab, f.hasTab = stdin, true
	}
	return "", nil
}

func (f *fakeSystem) SetRunValue(name, data string) error { f.registry[name] = data; return nil }
func (f *fakeSystem) DeleteRunValue(name string) error    { delete(f.registry, name); return nil }

func newFake(t *testing.T, goos string) (*System, *fakeSystem) {
	f := &fakeSystem{failing: map[string]bool{}, registry: map[string]string{}}
	home := t.TempDir()
	return &System{
		GOOS: goos, Home: home, ConfigHome: filepath.Join(home, "xdg"), SystemUnitDir: filepath.Join(home, "etc-systemd-system"),
		Run: f.run, CronRunning: func() (bool, string) { return false, "no cron or crond process" }, Registry: f,
	}, f
}

func TestFormatsGolden(t *testing.T) {
	u, err := SystemdUnit(spec, false)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "user.service", u)
	u, _ = SystemdUnit(spec, true)
	golden(t, "system.service", u)
	line, err := CronLine(spec)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "crontab.line", []byte(line+"\n"))
	plist, err := LaunchAgentPlist("org.seattletestbed."+ID(spec.Dir), spec)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "launchagent.plist", plist)
	golden(t, "registry.txt", []byte(`HKEY_CURRENT_USER\`+runKeyPath+`\`+ID(spec.Dir)+" = "+RunValue(Spec{Dir: `C:\Users\donor\seattle`, Command: `C:\Users\donor\seattle\start_seattle.bat`})+"\n"))
}

func TestFormatsRefuseLineBreaks(t *testing.T) {
	bad := Spec{Dir: "/tmp/a\nb", Command: "/tmp/a\nb/start_seattle.sh"}
	if _, err := CronLine(bad); err == nil {
		t.Error("a crontab line with a newline")
	}
	if _, err := SystemdUnit(bad, false); err == nil {
		t.Error("a unit with a newline")
	}
	if _, err := CronLine(Spec{Dir: "rel", Command: "rel/x"}); err == nil {
		t.Error("a relative command")
	}
}

func TestChoose(t *testing.T) {
	for _, tc := range []struct {
		name       string
		goos       string
		root, boot bool
		userBus    bool
		want       Method
	}{
		{"linux_user_session", "linux", false, true, true, SystemdUser},
		{"linux_no_user_session", "linux", false, true, false, Cron},
		{"linux_root_systemd", "linux", true, true, true, SystemdSystem},
		{"linux_root_no_systemd", "linux", true, false, false, Cron},
		{"darwin", "darwin", false, false, false, LaunchAgent},
		{"windows", "windows", false, false, false, RunKey},
		{"freebsd", "freebsd", false, false, false, Cron},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := newFake(t, tc.goos)
			s.Root, s.SystemdBooted = tc.root, tc.boot
			if !tc.userBus {
				f.failing["systemctl --user"] = true
			}
			if got := s.Choose(context.Background()); got != tc.want {
				t.Errorf("Choose = %s, want %s", got, tc.want)
			}
		})
	}
}

func listFiles(t *testing.T, root string) string {
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestRegisterAndUnregister(t *testing.T) {
	ctx := context.Background()
	t.Run("systemd_user_unit_in_XDG_CONFIG_HOME", func(t *testing.T) {
		s, f := newFake(t, "linux")
		os.MkdirAll(filepath.Join(s.ConfigHome, "systemd", "user"), 0o755)
		os.WriteFile(filepath.Join(s.ConfigHome, "systemd", "user", "other.service"), []byte("someone else's"), 0o644)
		r, err := s.Register(ctx, SystemdUser, spec)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(s.ConfigHome, "systemd", "user", ID(spec.Dir)+".service")
		if r.Path != want {
			t.Errorf("unit at %s, want %s", r.Path, want)
		}
		b, _ := os.ReadFile(r.Path)
		golden(t, "user.service", b)
		if got := strings.Join(f.calls, "; "); got != "systemctl --user daemon-reload; systemctl --user enable "+r.Name {
			t.Errorf("ran %s", got)
		}
		if !strings.Contains(r.Describe(), r.Path) {
			t.Errorf("Describe: %s", r.Describe())
		}
		// A second registration of the same directory does not overwrite.
		if _, err := s.Register(ctx, SystemdUser, spec); err == nil || !strings.Contains(err.Error(), "exists already") {
			t.Errorf("second Register: %v", err)
		}
		f.calls = nil
		if err := s.Unregister(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got := listFiles(t, s.ConfigHome); got != "systemd/user/other.service" {
			t.Errorf("after Unregister: %s", got)
		}
		if got := strings.Join(f.calls, "; "); got != "systemctl --user disable "+r.Name+"; systemctl --user daemon-reload" {
			t.Errorf("ran %s", got)
		}
		if err := s.Unregister(ctx, r); err != nil {
			t.Errorf("Unregister again: %v", err)
		}
	})
	t.Run("systemd_enable_fails_leaves_nothing", func(t *testing.T) {
		s, f := newFake(t, "linux")
		f.failing["systemctl --user enable"] = true
		r, err := s.Register(ctx, SystemdUser, spec)
		if err == nil || !strings.Contains(err.Error(), "Failed to connect to bus") {
			t.Fatalf("Register: %v", err)
		}
		if got := listFiles(t, s.ConfigHome); got != "" {
			t.Errorf("left %s", got)
		}
		if m := s.Manual(r, spec); !strings.Contains(m, "systemctl --user enable "+r.Name) {
			t.Errorf("Manual: %s", m)
		}
	})
	t.Run("systemd_system_unit_as_root", func(t *testing.T) {
		s, f := newFake(t, "linux")
		r, err := s.Register(ctx, SystemdSystem, spec)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(r.Path)
		golden(t, "system.service", b)
		if got := strings.Join(f.calls, "; "); got != "systemctl daemon-reload; systemctl enable "+r.Name {
			t.Errorf("ran %s", got)
		}
		if err := s.Unregister(ctx, r); err != nil || listFiles(t, s.SystemUnitDir) != "" {
			t.Errorf("Unregister: %v, left %s", err, listFiles(t, s.SystemUnitDir))
		}
	})
	t.Run("a_hostile_record_names_another_file", func(t *testing.T) {
		s, _ := newFake(t, "linux")
		victim := filepath.Join(t.TempDir(), "passwd")
		os.WriteFile(victim, []byte("x"), 0o644)
		for _, r := range []Registration{
			{Method: SystemdUser, Name: "passwd", Path: victim},
			{Method: SystemdSystem, Name: "seattle-x.service", Path: victim},
			{Method: LaunchAgent, Name: "org.seattletestbed.seattle-1", Path: victim},
			{Method: Cron, Line: "0 * * * * backup"},
			{Method: RunKey, Name: "OneDrive"},
		} {
			if err := s.Unregister(ctx, r); err == nil {
				t.Errorf("Unregister(%+v) accepted", r)
			}
		}
		if _, err := os.Stat(victim); err != nil {
			t.Error("the victim was removed")
		}
	})
	t.Run("crontab_keeps_other_lines", func(t *testing.T) {
		s, f := newFake(t, "linux")
		f.crontab, f.hasTab = "MAILTO=donor\n0 * * * * backup\n", true
		r, err := s.Register(ctx, Cron, spec)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "crontab.line", []byte(r.Line+"\n"))
		if f.crontab != "MAILTO=donor\n0 * * * * backup\n"+r.Line+"\n" {
			t.Errorf("crontab:\n%s", f.crontab)
		}
		if !strings.Contains(r.Note, "cron does not seem to be running") {
			t.Errorf("no note that cron does not run: %q", r.Note)
		}
		if _, err := s.Register(ctx, Cron, spec); err != nil || strings.Count(f.crontab, r.Line) != 1 {
			t.Errorf("registering twice: %v\n%s", err, f.crontab)
		}
		if err := s.Unregister(ctx, r); err != nil {
			t.Fatal(err)
		}
		if f.crontab != "MAILTO=donor\n0 * * * * backup\n" {
			t.Errorf("after Unregister:\n%q", f.crontab)
		}
		if m := s.Manual(r, spec); !strings.HasPrefix(m, "run: (crontab -l; echo '@reboot") {
			t.Errorf("Manual: %s", m)
		}
	})
	t.Run("crontab_none_before", func(t *testing.T) {
		s, f := newFake(t, "linux")
		r, err := s.Register(ctx, Cron, spec)
		if err != nil || f.crontab != r.Line+"\n" {
			t.Fatalf("%v: %q", err, f.crontab)
		}
		s.Unregister(ctx, r)
		if f.crontab != "" {
			t.Errorf("after: %q", f.crontab)
		}
	})
	t.Run("launchagent", func(t *testing.T) {
		s, _ := newFake(t, "darwin")
		r, err := s.Register(ctx, LaunchAgent, spec)
		if err != nil {
			t.Fatal(err)
		}
		if r.Path != filepath.Join(s.Home, "Library", "LaunchAgents", "org.seattletestbed."+ID(spec.Dir)+".plist") {
			t.Errorf("plist at %s", r.Path)
		}
		b, _ := os.ReadFile(r.Path)
		golden(t, "launchagent.plist", b)
		if err := s.Unregister(ctx, r); err != nil || listFiles(t, s.Home) != "" {
			t.Errorf("Unregister: %v, left %s", err, listFiles(t, s.Home))
		}
	})
	t.Run("registry_run_value", func(t *testing.T) {
		s, f := newFake(t, "windows")
		w := Spec{Dir: `C:\Users\donor\seattle`, Command: `C:\Users\donor\seattle\start_seattle.bat`}
		// Only absolute Windows paths, whatever system registers them.
		for _, bad := range []Spec{spec, {Dir: `seattle`, Command: `seattle\start_seattle.bat`}, {Dir: `C:seattle`, Command: `C:seattle\start_seattle.bat`}} {
			if _, err := s.Register(ctx, RunKey, bad); err == nil || !strings.Contains(err.Error(), "absolute Windows paths") {
				t.Errorf("Register(%q): %v", bad.Command, err)
			}
		}
		if len(f.registry) != 0 {
			t.Fatalf("refused specs left %v", f.registry)
		}
		r, err := s.Register(ctx, RunKey, w)
		if err != nil {
			t.Fatal(err)
		}
		if f.registry[r.Name] != RunValue(w) || r.Name != ID(w.Dir) {
			t.Errorf("registry: %v", f.registry)
		}
		golden(t, "registry.txt", []byte(`HKEY_CURRENT_USER\`+runKeyPath+`\`+ID(spec.Dir)+" = "+RunValue(w)+"\n"))
		if m := s.Manual(r, w); !strings.Contains(m, `reg add HKCU\Software\Microsoft\Windows\CurrentVersion\Run /v `+r.Name) {
			t.Errorf("Manual: %s", m)
		}
		if err := s.Unregister(ctx, r); err != nil || len(f.registry) != 0 {
			t.Errorf("Unregister: %v, %v", err, f.registry)
		}
	})
}

// TestStartAndStop starts a real script (start_seattle.sh, or .bat on
// Windows) that records that it ran, starts a child and stays up; Stop
// ends both.
func TestStartAndStop(t *testing.T) {
	dir := t.TempDir()
	script := startScript(t, dir, stays)
	p, err := Start(context.Background(), Spec{Dir: dir, Command: script})
	if err != nil {
		t.Fatal(err)
	}
	if p.PID <= 0 || !Running(p) {
		t.Fatalf("Start = %+v, running %v", p, Running(p))
	}
	deadline := time.Now().Add(10 * time.Second)
	var child int
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, "child")); err == nil && strings.HasSuffix(string(b), "\n") {
			fmt.Sscanf(string(b), "child %d", &child)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if child <= 0 {
		t.Error("the script started no child")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ran")); strings.TrimSpace(string(b)) != "ran in "+dir {
		t.Errorf("ran: %q, want it to have run in %s", b, dir)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LogFile)); !strings.Contains(string(b), "started") {
		t.Errorf("the log holds %q", b)
	}
	if err := Stop(p, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if Running(p) {
		t.Error("still running after Stop")
	}
	if child > 0 && childRunning(child) {
		t.Errorf("the child %d survived Stop", child)
	}
	if err := Stop(p, time.Second); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Stop again: %v", err)
	}
	// A pid recorded with another start time is not signalled.
	if err := Stop(Process{PID: os.Getpid(), Since: "1"}, time.Second); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Stop of a reused pid: %v", err)
	}
}

// TestStopAfterTheScriptEnded: a start script that starts the node in the
// background and ends (as start_seattle.sh and .bat do) leaves a node that
// Running sees and Stop ends.
func TestStopAfterTheScriptEnded(t *testing.T) {
	dir := t.TempDir()
	p, err := Start(context.Background(), Spec{Dir: dir, Command: startScript(t, dir, detaches)})
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && child == 0; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(dir, "child")); err == nil && strings.HasSuffix(string(b), "\n") {
			fmt.Sscanf(string(b), "child %d", &child)
		}
	}
	if child <= 0 {
		t.Fatal("the script started no child")
	}
	t.Cleanup(func() { Stop(Process{PID: child}, time.Second) })
	if !Running(p) {
		t.Fatalf("the node (script %d, child %d) is not Running", p.PID, child)
	}
	if err := Stop(p, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if childRunning(child) {
		t.Errorf("the child %d survived Stop", child)
	}
}

func TestStartFailsAtOnce(t *testing.T) {
	dir := t.TempDir()
	script := startScript(t, dir, fails)
	_, err := Start(context.Background(), Spec{Dir: dir, Command: script})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), LogFile) {
		t.Errorf("Start: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LogFile)); !strings.Contains(string(b), "python not found") {
		t.Errorf("log: %q", b)
	}
	if _, err := Start(context.Background(), Spec{Dir: dir, Command: filepath.Join(dir, "missing"+filepath.Ext(script))}); err == nil {
		t.Error("a missing command started")
	}
}

func TestRecord(t *testing.T) {
	dir := t.TempDir()
	// A spec of this system's (absolute paths are the system's own).
	spec := Spec{Dir: dir, Command: filepath.Join(dir, "start_seattle")}
	if _, err := ReadRecord(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no record: %v", err)
	}
	r := &Record{Spec: &spec, Boot: Cron, Start: true}
	if !r.Pending() {
		t.Error("not pending")
	}
	if err := WriteRecord(dir, r); err != nil {
		t.Fatal(err)
	}
	r.Registered, r.BootDone, r.Started, r.StartDone = &Registration{Method: Cron, Line: "@reboot x"}, true, &Process{PID: 42, Since: "7"}, true
	WriteRecord(dir, r)
	back, err := ReadRecord(dir)
	if err != nil || back.Pending() || back.Started.PID != 42 || back.Registered.Line != "@reboot x" || back.Spec.Command != spec.Command {
		t.Errorf("read back %+v, %v", back, err)
	}
	for name, text := range map[string]string{
		"garbage":  "not json",
		"version":  `{"version": 2}`,
		"relative": `{"version": 1, "spec": {"Dir": "x", "Command": "y"}}`,
		"huge":     `{"version": 1, "x": "` + strings.Repeat("a", maxRecord) + `"}`,
	} {
		os.WriteFile(filepath.Join(dir, RecordFile), []byte(text), 0o644)
		if _, err := ReadRecord(dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	os.Remove(filepath.Join(dir, RecordFile))
	other := filepath.Join(t.TempDir(), "record")
	WriteRecord(filepath.Dir(other), r)
	os.Rename(filepath.Join(filepath.Dir(other), RecordFile), other)
	t.Run("a_linked_record", func(t *testing.T) {
		linktest.Symlink(t, other, filepath.Join(dir, RecordFile))
		if _, err := ReadRecord(dir); err == nil {
			t.Error("read through a symlink")
		}
	})
	// A record another user wrote names nothing this user stops or removes.
	if os.Geteuid() == 0 {
		os.Remove(filepath.Join(dir, RecordFile))
		WriteRecord(dir, r)
		os.Chown(filepath.Join(dir, RecordFile), 65534, 65534)
		if _, err := ReadRecord(dir); err == nil || !strings.Contains(err.Error(), "belongs to another user") {
			t.Errorf("a record of another user: %v", err)
		}
	}
}
