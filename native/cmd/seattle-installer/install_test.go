package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
	"github.com/seattletestbed/seattle-installer/native/nodeman"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

const (
	installSample   = "../../assets/vesselinfo.sample"
	installMeasured = "../../install/testdata/measured.json"
)

// negativeMeasurements has a memory measurement that Check refuses, so the
// install has to ask whether to continue with defaults.
const negativeMeasurements = `{"resources":{"cpu":2,"memory":-5,"diskused":1e10,"events":null,"filesopened":100,"insockets":100,"outsockets":100,"random":1e6,"filewrite":1e6,"fileread":1e6,"netrecv":null,"netsend":null,"lograte":null,"loopsend":null,"looprecv":null}}`

func writeIn(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dirTree lists everything under dir, "/" after directories, with file
// contents.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel) // the same names on Windows
		switch {
		case rel == ".":
		case d.IsDir():
			out[rel+"/"] = ""
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func pathsOf(m map[string]string) string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func installArgs(dir string, more ...string) []string {
	return append([]string{"install", "--ui", "none", "--dir", dir, "--vesselinfo", installSample, "--measured", installMeasured}, more...)
}

func TestInstallEndToEnd(t *testing.T) {
	t.Setenv(keyBitsEnv, "") // the default key size, as donors get it
	dir := t.TempDir()
	r := runBinary(t, "", installArgs(dir)...)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	for _, s := range []string{"Plan: 10% of this computer for 4 vessels: ", "v1  40% of the donation  owner 1234…6789", "Ports                 63100-63139",
		"Installed 4 vessels into " + dir, "The install log is " + filepath.Join(dir, "installInfo.old"), "uninstall --dir " + dir,
		"The node is not running: no node program is bundled (no " + install.StartScript() + " in " + dir + ", and no --start-command).",
		"It does not start at boot: no node program is bundled"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	want := ".seattle-installer.manifest installInfo.old nodeman.cfg resource.v1 resource.v2 resource.v3 resource.v4 resources.offcut v1/ v2/ v3/ v4/ vesseldict"
	if got := pathsOf(treeOf(t, dir)); got != want {
		t.Errorf("the directory holds %s\nwant %s", got, want)
	}
	if runtime.GOOS == "windows" {
		// Under Wine there is no Python for Windows, and no Unix modes; the
		// files are the same bytes on every OS, and the Linux run reads them
		// back and checks their modes.
		return
	}
	// The node manager reads nodeman.cfg with Python: installed, with a
	// valid 2048-bit key pair (the default), readable by this user only.
	out, err := exec.Command("python3", "-c", `import ast, sys, math
d = ast.literal_eval(open(sys.argv[1]).read())
n, e = d['publickey']['n'], d['publickey']['e']
dd, p, q = d['privatekey']['d'], d['privatekey']['p'], d['privatekey']['q']
lam = (p-1)*(q-1)//math.gcd(p-1, q-1)
print(d['seattle_installed'], n == p*q, e*dd % lam == 1, n.bit_length(), d['service_vessel'], d['networkrestrictions']['nm_restricted'])`,
		filepath.Join(dir, "nodeman.cfg")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "True True True 2048 v2 False" {
		t.Errorf("python3 read nodeman.cfg: %v %s", err, out)
	}
	if st, err := os.Stat(filepath.Join(dir, "nodeman.cfg")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("nodeman.cfg: %v, mode %v, want 0600", err, st.Mode())
	}
	// The node manager reads the vesseldict with Python.
	out, err = exec.Command("python3", "-c", `import ast, sys
d = ast.literal_eval(open(sys.argv[1]).read())
print(sorted(d), d['v1']['ownerkey'], len(d['v1']['userkeys']), d['v4']['resourcefilename'], d['v2']['status'])`,
		filepath.Join(dir, "vesseldict")).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 cannot read the vesseldict (make deps installs python3): %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "['v1', 'v2', 'v3', 'v4'] {'e': 123456789123, 'n': 123456789123456789123456789} 1 resource.v4 Fresh" {
		t.Errorf("python3 read %s", got)
	}
	v1, _ := os.ReadFile(filepath.Join(dir, "resource.v1"))
	for _, s := range []string{"resource cpu 0.15680000000000002\n", "resource memory 318400000\n", "resource messport 63100\n", "resource connport 63139\n", "call sleep allow"} {
		if !strings.Contains(string(v1), s) {
			t.Errorf("resource.v1 lacks %q", s)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"/opt/node/start_seattle.sh", "[/opt/node/start_seattle.sh]"},
		{"  python3  nmmain.py --foreground ", "[python3 nmmain.py --foreground]"},
		{`'/opt/my node/start' "a b" c\ d`, "[/opt/my node/start a b c d]"},
		{`"say \"hi\"" ''`, `[say "hi" ]`},
		{`"unclosed`, "error"},
	} {
		got, err := splitCommand(tc.in)
		if s := fmt.Sprint(got); (err != nil) != (tc.want == "error") || err == nil && s != tc.want {
			t.Errorf("splitCommand(%q) = %s, %v; want %s", tc.in, s, err, tc.want)
		}
	}
}

func TestInstallUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
		in   string
	}{
		{"help", []string{"install", "--help"}, exitOK, "Usage: seattle-installer install"},
		{"percent_zero", installArgs(dir, "--percent", "0"), exitUsage, "more than 0 and at most 100"},
		{"percent_negative", installArgs(dir, "--percent", "-5"), exitUsage, "more than 0 and at most 100"},
		{"percent_over_100", installArgs(dir, "--percent", "100.5"), exitUsage, "more than 0 and at most 100"},
		{"percent_nan", installArgs(dir, "--percent", "NaN"), exitUsage, "more than 0 and at most 100"},
		{"percent_infinite", installArgs(dir, "--percent", "+Inf"), exitUsage, "more than 0 and at most 100"},
		{"percent_junk", installArgs(dir, "--percent", "ten"), exitUsage, `"ten" is not a number`},
		{"percent_empty", installArgs(dir, "--percent", ""), exitUsage, "not a number"},
		{"unknown_ui", installArgs(dir, "--ui", "hologram"), exitUsage, `--ui "hologram" is not one of`},
		{"stray_argument", installArgs(dir, "now"), exitUsage, `unexpected argument "now"`},
		{"unknown_flag", installArgs(dir, "--force"), exitUsage, "flag provided but not defined"},
		{"key_too_small", installArgs(dir, "--nm-key-bitsize", "512"), exitUsage, "--nm-key-bitsize 512: a key has at least 1024"},
		{"key_too_large", installArgs(dir, "--nm-key-bitsize", "100000"), exitUsage, "at most 16384 bits"},
		{"key_not_a_number", installArgs(dir, "--nm-key-bitsize", "big"), exitUsage, "invalid value"},
		{"nm_ip_not_an_ip", installArgs(dir, "--nm-ip", "example.org"), exitUsage, `--nm-ip "example.org" is not an IP address`},
		{"repy_iface_empty", installArgs(dir, "--repy-iface", ""), exitUsage, `--repy-iface "" is not an interface name`},
		{"both_bad", installArgs(dir, "--repy-ip", "1.2.3", "--nm-iface", "eth\x01"), exitUsage, `--repy-ip "1.2.3"`},
		{"start_command_unclosed_quote", installArgs(dir, "--start-command", "'/opt/node/start"), exitUsage, "a quote (') is not closed"},
		{"start_command_blank", installArgs(dir, "--start-command", "  "), exitUsage, "it names no program"},
		{"help_teaches_the_node_flags", []string{"install", "--help"}, exitOK, "-disable-startup-script"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBinary(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.in) {
				t.Errorf("exit %d (want %d), output lacks %q?\nstdout: %s\nstderr: %s", r.code, tc.code, tc.in, r.stdout, r.stderr)
			}
		})
	}
	if got := pathsOf(treeOf(t, dir)); got != "" {
		t.Errorf("usage errors wrote %s", got)
	}
}

// TestInstallWithoutAGraphicalUI runs the command in process with the
// window or browser taken out of the build, as a build without cgo lacks
// the window.
func TestInstallWithoutAGraphicalUI(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"webview", "browser"} {
		saved, had := graphicalUIs[mode]
		delete(graphicalUIs, mode)
		var out, errb bytes.Buffer
		dir := t.TempDir()
		code := runInstall(context.Background(), &env{strings.NewReader(""), &out, &errb}, installArgs(dir, "--ui", mode)[1:])
		if had {
			graphicalUIs[mode] = saved
		}
		if code != exitUsage || !strings.Contains(errb.String(), "this build has no "+mode+" UI; use --ui") {
			t.Errorf("--ui %s: exit %d, stderr %q", mode, code, errb.String())
		}
		if got := pathsOf(treeOf(t, dir)); got != "" {
			t.Errorf("--ui %s wrote %s", mode, got)
		}
	}
}

func TestInstallDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeIn(t, dir, "notes.txt", "mine")
	before := treeOf(t, dir)
	r := runBinary(t, "", installArgs(dir, "--dry-run", "--percent", "25")...)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, s := range []string{"Plan: 25% of this computer", "v4  20% of the donation", "63180-63199 (20, each as messport and connport)", "Dry run", "nothing was written"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	if after := treeOf(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a dry run changed the directory: %s", pathsOf(after))
	}
}

func TestInstallOutputModes(t *testing.T) {
	t.Parallel()
	t.Run("json", func(t *testing.T) {
		r := runBinary(t, "", installArgs(t.TempDir(), "--json")...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != exitOK || len(lines) < 10 || !strings.HasPrefix(lines[len(lines)-1], `{"kind":"finished"`) {
			t.Errorf("exit %d, last line %q", r.code, lines[len(lines)-1])
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "{") {
				t.Errorf("not a JSON line: %q", l)
			}
		}
	})
	t.Run("silent", func(t *testing.T) {
		r := runBinary(t, "", installArgs(t.TempDir(), "-s")...)
		if r.code != exitOK || r.stdout != "" || r.stderr != "" {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("silent_failure_still_says_why", func(t *testing.T) {
		r := runBinary(t, "", "install", "--ui", "none", "-s", "--dir", t.TempDir(), "--vesselinfo", "/nonexistent", "--measured", installMeasured)
		if r.code != exitFail || r.stdout != "" || !strings.Contains(r.stderr, notFound("/nonexistent")) {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}

func TestInstallFailures(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	bad := writeIn(t, tmp, "vesselinfo", "Percent 50\nOwner 3 5\n")
	negative := writeIn(t, tmp, "negative.json", negativeMeasurements)
	installed := t.TempDir()
	if r := runBinary(t, "", installArgs(installed)...); r.code != exitOK {
		t.Fatalf("first install: %s", r.stderr)
	}
	for _, tc := range []struct {
		name string
		dir  string
		args []string
		code int
		want []string
	}{
		{"bad_vesselinfo", "", []string{"--vesselinfo", bad}, exitFail, []string{"add up to", "Nothing was installed", "installer_benchmark.log", "together with your vesselinfo file"}},
		{"already_installed", installed, nil, exitFail, []string{"already holds a Seattle install", "seattle-installer uninstall --dir " + installed}},
		{"failed_measurement_nobody_to_ask", "", []string{"--measured", negative}, exitFail, []string{"declined", "--yes", "installer_benchmark.log"}},
		{"failed_measurement_yes", "", []string{"--measured", negative, "--yes"}, exitOK, []string{"Installed 4 vessels"}},
		{"insufficient", "", []string{"--percent", "0.01"}, exitFail, []string{"nsufficient resources", "larger percentage"}},
		{"malformed_measurements", "", []string{"--measured", writeIn(t, tmp, "bad.json", "{")}, exitFail, []string{"not a measurements file", "--measured"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
			}
			r := runBinary(t, "", append(installArgs(dir), tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, s := range tc.want {
				if !strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", s, r.stdout, r.stderr)
				}
			}
		})
	}
}

// TestInstallBesideTheInstaller runs a copy of the installer that has its
// vesselinfo and common files beside it, without --dir or --vesselinfo,
// as a donor who unpacked an installer would.
func TestInstallBesideTheInstaller(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := filepath.Join(dir, exeName("seattle-installer"))
	b, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(exe, b, 0o755)
	vi, _ := os.ReadFile(installSample)
	writeIn(t, dir, "vesselinfo", string(vi))
	writeIn(t, dir, "vessel.restrictions", "call sleep allow # beside\n")
	measured, _ := filepath.Abs(installMeasured)
	cmd := testbin.Command(context.Background(), exe, "install", "--ui", "none", "--measured", measured)
	cmd.Dir = t.TempDir() // not the installer's directory
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	v2, err := os.ReadFile(filepath.Join(dir, "resource.v2"))
	if err != nil || !strings.HasSuffix(string(v2), "call sleep allow # beside\n") {
		t.Errorf("resource.v2 beside the installer: %v, ends %q", err, v2[max(0, len(v2)-40):])
	}
}

func TestUninstall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeIn(t, dir, "nmmain.py", "the node manager")
	layer := t.TempDir()
	writeIn(t, layer, "encasementlib.r2py", "layer")
	if r := runBinary(t, "", installArgs(dir, "--repy-prepend-dir", layer)...); r.code != exitOK {
		t.Fatalf("install: %s", r.stderr)
	}
	writeIn(t, filepath.Join(dir, "v3"), "uploaded.r2py", "a researcher's program")
	r := runBinary(t, "", "uninstall", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, s := range []string{"removed " + filepath.Join(dir, "vesseldict"), "removed " + filepath.Join(dir, "v1", "encasementlib.r2py"), "kept " + filepath.Join(dir, "v3"), "Uninstalled from"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	// The service log stays, with the uninstall in it.
	if got := pathsOf(treeOf(t, dir)); got != "installInfo.old nmmain.py v3/ v3/uploaded.r2py" {
		t.Errorf("after uninstall: %s", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "installInfo.old")); !strings.Contains(string(b), ":Uninstalled: ") {
		t.Errorf("the service log does not record the uninstall:\n%s", b)
	}
	r = runBinary(t, "", "uninstall", "--dir", dir)
	if r.code != exitFail || !strings.Contains(r.stderr, "nothing to remove") {
		t.Errorf("second uninstall: exit %d, %s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"uninstall", "extra"}, {"uninstall", "--nope"}} {
		if r := runBinary(t, "", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
	if r := runBinary(t, "", "uninstall", "--help"); r.code != exitOK || !strings.Contains(r.stderr, "Files added since") {
		t.Errorf("uninstall --help: exit %d\n%s", r.code, r.stderr)
	}
}

// pausedRun starts the binary with the test seam set to pause at
// checkpoint n. It returns the checkpoint's name once the process has
// paused there (and kills it), or "" when it finished without reaching it.
func pausedRun(t *testing.T, n int, args ...string) (checkpoint string, r runResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := testbin.Command(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", state.TestPauseEnv, n))
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var errText strings.Builder
	sc := bufio.NewScanner(stderr)
	prefix := fmt.Sprintf("checkpoint %d: ", n)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, prefix) {
			checkpoint = strings.TrimPrefix(line, prefix)
			cmd.Process.Signal(syscall.SIGKILL)
			break
		}
		errText.WriteString(line + "\n")
	}
	io.Copy(io.Discard, stderr)
	cmd.Wait()
	return checkpoint, runResult{out.String(), errText.String(), cmd.ProcessState.ExitCode()}
}

// TestKilledAtAnyMoment kills the real binary (SIGKILL) at every checkpoint
// of an install, each in a fresh directory: before each file operation of
// the state and between the phases. After each kill the directory must hold
// nothing that looks installed, or a complete install; then a plain rerun
// must leave exactly what an uninterrupted install leaves. Then the same for
// uninstall.
func TestKilledAtAnyMoment(t *testing.T) {
	t.Parallel()
	layer := t.TempDir()
	writeIn(t, layer, "encasementlib.r2py", "# layer one\n")
	writeIn(t, layer, "restrictions.r2py", "# layer two\n")
	args := func(dir string) []string { return installArgs(dir, "--repy-prepend-dir", layer) }

	ref := t.TempDir()
	if r := runBinary(t, "", args(ref)...); r.code != exitOK {
		t.Fatalf("uninterrupted install: %s", r.stderr)
	}
	want := treeOf(t, ref)
	sameAsReference := func(t *testing.T, got map[string]string, allowLeftovers bool) {
		t.Helper()
		for name, text := range want {
			if name == state.ServiceLogFile {
				if !strings.Contains(got[name], "Install complete") {
					t.Errorf("installInfo lacks the end of the install log:\n%s", got[name])
				}
				continue
			}
			if name == "nodeman.cfg" {
				// Its keys are new in every install; the rest is the same.
				if g, ok := got[name]; !ok || !sameConfig(g, text) {
					t.Errorf("nodeman.cfg is missing, or incomplete, or differs from an uninterrupted install's:\n%s", g)
				}
				continue
			}
			if g, ok := got[name]; !ok || g != text {
				t.Errorf("%s is missing or differs from an uninterrupted install", name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok && !allowLeftovers {
				t.Errorf("%s is left over", name)
			}
		}
	}

	kills := map[string]bool{}
	undos := 0 // kills during the undo of an interrupted commit
	for n := 1; ; n++ {
		dir := t.TempDir()
		cp, r := pausedRun(t, n, args(dir)...)
		if cp == "" {
			if r.code != exitOK {
				t.Fatalf("the run without a kill (checkpoint %d never came) failed: exit %d\n%s", n, r.code, r.stderr)
			}
			break
		}
		kills[cp] = true
		t.Run(fmt.Sprintf("%02d_%s", n, strings.ReplaceAll(cp, " ", "_")), func(t *testing.T) {
			got := treeOf(t, dir)
			if _, installed := got[state.VesseldictFile]; installed {
				// Past the commit point: a complete install (leftovers of the
				// commit may remain until a rerun clears them).
				sameAsReference(t, got, true)
			} else {
				// Nothing that looks installed; and whatever vessel file is
				// already in place is whole, never half-written.
				for name, text := range got {
					if strings.HasPrefix(name, ".seattle-installer.") || name == state.TempLogFile || name == state.ServiceLogFile {
						continue
					}
					if name == "nodeman.cfg" && sameConfig(text, want[name]) {
						continue // whole, with its keys
					}
					if w, ok := want[name]; !ok || w != text {
						t.Errorf("after the kill %s is in the directory, and not as an install writes it", name)
					}
				}
			}
			_, committed := got[state.VesseldictFile]
			_, journal := got[".seattle-installer.commit/"]
			if journal && !committed {
				// Killed mid-commit: the next run first undoes it. Kill that
				// run too, in the middle of its undo, before the final rerun.
				if cp2, _ := pausedRun(t, 1, args(dir)...); cp2 != "" {
					undos++
					if _, ok := treeOf(t, dir)[state.VesseldictFile]; ok {
						t.Errorf("killed during the undo (%s), the directory has a vesseldict", cp2)
					}
				}
			}
			r := runBinary(t, "", args(dir)...)
			switch {
			case committed && !journal && r.code == exitFail && strings.Contains(r.stderr, "already holds a Seattle install"):
				// Killed after the install had finished all its work: the
				// rerun cannot tell this from any finished install.
			case r.code != exitOK:
				t.Fatalf("the rerun failed: exit %d\n%s", r.code, r.stderr)
			}
			sameAsReference(t, treeOf(t, dir), false)
		})
	}
	if len(kills) < 20 {
		t.Errorf("killed at only %d moments, want at least 20: %v", len(kills), kills)
	}
	if undos < 5 {
		t.Errorf("killed during an undo only %d times", undos)
	}
	t.Logf("install killed at %d moments, and %d times more during the undo of a commit", len(kills), undos)

	ukills := 0
	for n := 1; ; n++ {
		dir := t.TempDir()
		writeIn(t, dir, "nmmain.py", "not the install's")
		if r := runBinary(t, "", args(dir)...); r.code != exitOK {
			t.Fatal(r.stderr)
		}
		cp, r := pausedRun(t, n, "uninstall", "--dir", dir)
		if cp == "" {
			if r.code != exitOK {
				t.Fatalf("uninstall without a kill failed: %s", r.stderr)
			}
			break
		}
		ukills++
		got := treeOf(t, dir)
		if d, ok := got[state.VesseldictFile]; ok && d != want[state.VesseldictFile] {
			t.Errorf("uninstall killed at %q left a changed vesseldict", cp)
		}
		if r := runBinary(t, "", "uninstall", "--dir", dir); r.code != exitOK {
			t.Fatalf("uninstall killed at %q: the rerun failed: %s", cp, r.stderr)
		}
		if got := pathsOf(treeOf(t, dir)); got != state.ServiceLogFile+" nmmain.py" {
			t.Errorf("uninstall killed at %q, rerun: the directory holds %s", cp, got)
		}
	}
	if ukills < 10 {
		t.Errorf("uninstall killed at only %d moments", ukills)
	}
}

// mountOrFail runs mount; the tests that need it run as root (CI does).
func mountOrFail(t *testing.T, args ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs or a read-only bind mount")
	}
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %v: %v\n%s", args, err, out)
	}
	dir := args[len(args)-1]
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
}

func TestInstallDiskFull(t *testing.T) {
	dir := t.TempDir()
	mountOrFail(t, "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir)
	layer := t.TempDir()
	writeIn(t, layer, "big.r2py", strings.Repeat("x", 40<<10))
	r := runBinary(t, "", installArgs(dir, "--repy-prepend-dir", layer)...)
	if r.code != exitFail {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, s := range []string{"no space left on device", dir + "/", "Nothing was installed", "ree some space on that disk", filepath.Join(dir, state.TempLogFile)} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
	if got := pathsOf(treeOf(t, dir)); got != state.TempLogFile {
		t.Errorf("a full disk left %s, want only the log", got)
	}
	log, _ := os.ReadFile(filepath.Join(dir, state.TempLogFile))
	if !strings.Contains(string(log), "no space left on device") {
		t.Errorf("the kept log does not say why:\n%s", log)
	}
}

func TestInstallReadOnlyDirectory(t *testing.T) {
	dir := t.TempDir()
	mountOrFail(t, "--bind", dir, dir)
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v\n%s", err, out)
	}
	r := runBinary(t, "", installArgs(dir)...)
	if r.code != exitFail {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, s := range []string{"read-only file system", dir, "installer_benchmark-", "choose another --dir"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
	if got := pathsOf(treeOf(t, dir)); got != "" {
		t.Errorf("the read-only directory holds %s", got)
	}
	// The log went to the temporary directory instead; the message names it.
	i := strings.Index(r.stderr, os.TempDir()+"/installer_benchmark-")
	if i < 0 {
		t.Fatalf("no log path in %s", r.stderr)
	}
	path := strings.Fields(r.stderr[i:])[0]
	path = strings.TrimRight(path, ";.")
	log, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(log), "read-only file system") {
		t.Errorf("the log %s: %v\n%s", path, err, log)
	}
	os.Remove(path)
}

// sameConfig reports whether two nodeman.cfg texts are the same but for
// the key pair, and a holds a valid one.
func sameConfig(a, b string) bool {
	da, err1 := nodeman.Read([]byte(a))
	db, err2 := nodeman.Read([]byte(b))
	if err1 != nil || err2 != nil {
		return false
	}
	k, err := nodeman.Keys(da)
	if err != nil || !seattlekey.Matches(k.Public, k.Private) {
		return false
	}
	for _, d := range []*nodeman.Dict{da, db} {
		d.Delete("publickey")
		d.Delete("privatekey")
	}
	fa, _ := nodeman.Format(da)
	fb, _ := nodeman.Format(db)
	return fa == fb
}

func TestKeyBitsEnvOnlyChangesTheDefaultWithinTheFlagsBounds(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{
		{"", seattlekey.DefaultBits},
		{"1024", 1024},
		{"4096", 4096},
		{"16384", 16384},
		{"512", seattlekey.DefaultBits},   // smaller than the flag allows
		{"16385", seattlekey.DefaultBits}, // larger
		{"-1", seattlekey.DefaultBits},
		{"big", seattlekey.DefaultBits},
	} {
		t.Setenv(keyBitsEnv, tc.env)
		if got := defaultKeyBits(); got != tc.want {
			t.Errorf("%s=%q: default %d bits, want %d", keyBitsEnv, tc.env, got, tc.want)
		}
	}
}
