package install

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/internal/linktest"
	"github.com/seattletestbed/seattle-installer/native/nodeman"
	"github.com/seattletestbed/seattle-installer/native/startup"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

// fakeCron is a machine without a systemd user session whose crontab lives
// in memory: the real crontab is exercised by the binary's tests.
type fakeCron struct{ tab string }

func (f *fakeCron) system() *startup.System {
	return &startup.System{
		GOOS: "linux", Home: os.TempDir(),
		Run: func(_ context.Context, stdin, name string, args ...string) (string, error) {
			switch strings.Join(append([]string{name}, args...), " ") {
			case "crontab -l":
				return f.tab, nil
			case "crontab -":
				f.tab = stdin
				return "", nil
			}
			return "systemctl: no bus", errors.New("exit status 1")
		},
		CronRunning: func() (bool, string) { return true, "found cron" },
	}
}

func useFakeCron(t *testing.T) *fakeCron {
	f := &fakeCron{}
	old := localSystem
	localSystem = f.system
	t.Cleanup(func() { localSystem = old })
	return f
}

// stayingUp is a start_seattle.sh that records that it ran and stays up.
const stayingUp = "#!/bin/sh\necho ran > ran\nexec sleep 300\n"

func readCfg(t *testing.T, dir string) *nodeman.Dict {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, nodeman.File))
	if err != nil {
		t.Fatal(err)
	}
	d, err := nodeman.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRunFinishesTheNode(t *testing.T) {
	skipUnlessUnix(t)
	cron := useFakeCron(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "start_seattle.sh"), []byte(stayingUp), 0o755)
	shipped := "{'seattle_installed': False, 'ports': [1224], 'service_vessel': 'v2', 'extra': 'kept'}"
	os.WriteFile(filepath.Join(dir, nodeman.File), []byte(shipped), 0o644)
	o := opts(dir)
	o.AssetsDir = dir
	o.KeyBits = 1024
	o.NM = []nodeman.Pref{{IP: false, Value: "eth0"}}
	o.RepyNoOtherIPs = true
	rec := &recorder{}
	res, summary := runningNode(t, o, rec)
	n := res.Node
	for _, want := range []string{"The node is running (pid ", "It starts at boot through an @reboot line in this user's crontab.", "seattle-installer uninstall --dir " + dir} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(cron.tab, "@reboot") || !strings.Contains(cron.tab, filepath.Join(dir, "start_seattle.sh")) {
		t.Errorf("crontab: %q", cron.tab)
	}
	cfg := readCfg(t, dir)
	if !nodeman.Installed(cfg) {
		t.Error("nodeman.cfg does not say installed")
	}
	if v, _ := cfg.Get("extra"); v != "kept" {
		t.Errorf("the shipped key 'extra' = %v", v)
	}
	keys, err := nodeman.Keys(cfg)
	if err != nil || !seattlekey.Matches(keys.Public, keys.Private) || keys.Public.N.BitLen() != 1024 {
		t.Fatalf("keys: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(dir, nodeman.File)); st.Mode().Perm() != 0o600 {
		t.Errorf("nodeman.cfg mode %v", st.Mode())
	}
	// The keys are never logged or reported.
	logs, _ := os.ReadFile(filepath.Join(dir, state.ServiceLogFile))
	all := string(logs) + strings.Join(rec.lines(), "\n") + res.Message + summary
	for _, secret := range []string{keys.Private.P.String(), keys.Private.D.String(), keys.Public.N.String()} {
		if strings.Contains(all, secret[:40]) {
			t.Fatal("a key is in the log or the messages")
		}
	}
	if !strings.Contains(string(logs), "Started the node") {
		t.Errorf("the service log does not say the node started:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "resources.offcut")); err != nil {
		t.Errorf("resources.offcut: %v", err)
	}

	// Uninstall: the node stops, the crontab line goes, nodeman.cfg is as shipped.
	done, err := TakeBack(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(done, "; "); !strings.Contains(got, "stopped the node (pid") || !strings.Contains(got, "removed the start at boot") || !strings.Contains(got, "put back the nodeman.cfg") {
		t.Errorf("TakeBack: %s", got)
	}
	if startup.Running(startup.Process{PID: n.PID}) {
		t.Error("the node still runs")
	}
	if strings.Contains(cron.tab, "@reboot") {
		t.Errorf("crontab after: %q", cron.tab)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, nodeman.File)); string(b) != shipped {
		t.Errorf("nodeman.cfg after: %s", b)
	}
	if _, err := state.Uninstall(dir); err != nil {
		t.Fatal(err)
	}
}

func TestRunWithoutANodeProgram(t *testing.T) {
	useFakeCron(t)
	dir := t.TempDir()
	o := opts(dir)
	o.KeyBits = 1024
	res, err := Run(context.Background(), o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(res.Node.Summary, "\n")
	if !strings.Contains(s, "The node is not running: no node program is bundled (no "+StartScript()+" in "+dir+", and no --start-command).") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestRunRefusesAnInstalledConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := "{'seattle_installed': True}\n"
	os.WriteFile(filepath.Join(dir, nodeman.File), []byte(cfg), 0o644)
	res, err := Run(context.Background(), opts(dir), nil, nil)
	if !errors.Is(err, state.ErrAlreadyInstalled) || !strings.Contains(res.Message, "'seattle_installed': True") {
		t.Fatalf("Run: %v, %s", err, res.Message)
	}
	if got := listing(t, dir); strings.Join(got, " ") != "installInfo.old nodeman.cfg" {
		t.Errorf("the directory holds %v", got)
	}
}

func TestRunOnlyNetwork(t *testing.T) {
	dir := t.TempDir()
	o := opts(dir)
	o.OnlyNetwork = true
	o.Repy = []nodeman.Pref{{IP: true, Value: "10.0.0.2"}}
	res, err := Run(context.Background(), o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Message, "--onlynetwork") {
		t.Errorf("message: %s", res.Message)
	}
	cfg := readCfg(t, dir)
	if nodeman.Installed(cfg) {
		t.Error("--onlynetwork marked the node installed")
	}
	if _, ok := cfg.Get("publickey"); ok {
		t.Error("--onlynetwork made keys")
	}
	if runtime.GOOS == "windows" {
		return // no Python for Windows under Wine; the Linux run reads it back
	}
	out, err := exec.Command("python3", "-c", "import ast,sys; d=ast.literal_eval(open(sys.argv[1]).read()); print(d['networkrestrictions']['repy_user_preference'], d['networkrestrictions']['repy_restricted'])", filepath.Join(dir, nodeman.File)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "[(True, '10.0.0.2')] True" {
		t.Errorf("python3: %v %s", err, out)
	}
	if got := listing(t, dir); strings.Join(got, " ") != "installInfo.old nodeman.cfg" {
		t.Errorf("--onlynetwork wrote %v", got)
	}
}

func TestDryRunShowsTheStart(t *testing.T) {
	skipUnlessUnix(t)
	useFakeCron(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "start_seattle.sh"), []byte(stayingUp), 0o755)
	o := opts(dir)
	o.DryRun = true
	res, err := Run(context.Background(), o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(res.Node.Summary, "\n")
	for _, want := range []string{"At boot it would be started through an @reboot line in this user's crontab: @reboot", "It would be started now: " + filepath.Join(dir, "start_seattle.sh")} {
		if !strings.Contains(s, want) {
			t.Errorf("dry run lacks %q:\n%s", want, s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the dry run started the node")
	}
}

func (r *recorder) lines() []string {
	var s []string
	for _, e := range r.events {
		s = append(s, e.Detail)
	}
	return s
}

// TestRunRefusesABadShippedConfig: the nodeman.cfg beside the installer is
// input like vesselinfo; a broken, oversized or linked one stops the
// install before anything is written, with a message naming it.
func TestRunRefusesABadShippedConfig(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		make       func(t *testing.T, assets string)
	}{
		{"not_python", "is not a configuration the node manager can read", func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, nodeman.File), []byte("{'seattle_installed': False,"), 0o644)
		}},
		{"not_a_dict", "not a Python dict", func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, nodeman.File), []byte("['seattle_installed']"), 0o644)
		}},
		{"code", "is not a Python literal", func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, nodeman.File), []byte("__import__('os').system('touch /tmp/pwned')"), 0o644)
		}},
		{"oversized", "larger than", func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, nodeman.File), []byte("{'a': '"+strings.Repeat("x", nodeman.MaxSize)+"'}"), 0o644)
		}},
		{"a_link", "is not a regular file", func(t *testing.T, d string) {
			secret := filepath.Join(t.TempDir(), "secret")
			os.WriteFile(secret, []byte("{'seattle_installed': False}\n"), 0o600)
			linktest.Symlink(t, secret, filepath.Join(d, nodeman.File))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			useFakeCron(t)
			assets, dir := t.TempDir(), t.TempDir()
			tc.make(t, assets)
			o := opts(dir)
			o.AssetsDir = assets
			o.KeyBits = 1024
			res, err := Run(context.Background(), o, nil, nil)
			if err == nil || !strings.Contains(res.Message, tc.want) {
				t.Fatalf("Run: %v\n%s", err, res.Message)
			}
			if got := listing(t, dir); strings.Join(got, " ") != state.TempLogFile {
				t.Errorf("the directory holds %v, want only the install log", got)
			}
		})
	}
}

// skipUnlessUnix skips a test that runs a start_seattle.sh and registers it
// with cron: Unix's way. Windows starts start_seattle.bat through the Run
// registry value, which these tests do not exercise.
func skipUnlessUnix(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("runs start_seattle.sh and registers it with cron, which is Unix's way; TestRunFinishesTheNodeOnWindows starts start_seattle.bat through the Run value")
	}
}

// runningNode installs with o, observed by obs (may be nil), and returns
// what it did, with the node running (stopped when the test ends), and the
// summary of the node the donor reads.
func runningNode(t *testing.T, o Options, obs Observer) (*Result, string) {
	t.Helper()
	res, err := Run(context.Background(), o, obs, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := res.Node
	if n == nil || !n.Running || n.PID <= 0 {
		t.Fatalf("node %+v", n)
	}
	t.Cleanup(func() { startup.Stop(startup.Process{PID: n.PID}, time.Second) })
	return res, strings.Join(n.Summary, "\n")
}
