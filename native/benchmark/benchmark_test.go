package benchmark

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// quick is the rate budget of tests that do not look at the rates' values.
const quick = 300 * time.Millisecond

// measured lists the resources the benchmark measures (the others stay nil).
var measured = []resource.Name{
	resource.CPU, resource.Memory, resource.DiskUsed, resource.FilesOpened, resource.InSockets, resource.OutSockets,
	resource.Random, resource.FileWrite, resource.FileRead, resource.LogRate, resource.LoopSend, resource.LoopRecv,
}

func TestFaultGivesDefaultAndListedFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail []resource.Name
	}{
		{"cpu", []resource.Name{resource.CPU}},
		{"memory", []resource.Name{resource.Memory}},
		{"one of three sharing the open-files limit", []resource.Name{resource.InSockets}},
		{"filewrite alone: fileread still measured", []resource.Name{resource.FileWrite}},
		{"every probe", measured},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			fail := map[resource.Name]error{}
			for _, n := range tc.fail {
				fail[n] = errors.New("injected " + string(n) + " failure")
			}
			rep, err := run(context.Background(), Options{Dir: dir, Duration: quick}, config{fail: fail})
			if err != nil {
				t.Fatal(err)
			}
			vals, failures := Check(rep, runtime.GOARCH)
			listed := map[resource.Name]string{}
			for _, f := range failures {
				listed[f.Resource] = f.Error
			}
			for _, n := range resource.All {
				switch {
				case fail[n] != nil:
					if listed[n] != fail[n].Error() {
						t.Errorf("%s: failure %q, want %q", n, listed[n], fail[n])
					}
					if vals[n] != resource.Default(n, runtime.GOARCH) {
						t.Errorf("%s = %v, want the default %v", n, vals[n], resource.Default(n, runtime.GOARCH))
					}
				case n == resource.FileRead && fail[resource.FileWrite] != nil && !readsPastTheCache(t):
					// Here fileread reuses the write rate (probe_windows.go,
					// probe_bsd.go): it fails with filewrite, and says so.
					if !strings.Contains(listed[n], "the write rate failed") {
						t.Errorf("fileread with filewrite failed: %q, want it to name the write rate", listed[n])
					}
				case listed[n] != "":
					t.Errorf("%s failed unexpectedly: %s", n, listed[n])
				case rep.Resources[n] == nil && isMeasured(n):
					t.Errorf("%s not measured", n)
				}
			}
			assertEmpty(t, dir)
		})
	}
}

func isMeasured(n resource.Name) bool {
	for _, m := range measured {
		if m == n {
			return true
		}
	}
	return false
}

func TestARMGetsLoweredDefaults(t *testing.T) {
	fail := map[resource.Name]error{}
	for _, n := range measured {
		fail[n] = errors.New("injected")
	}
	rep, err := run(context.Background(), Options{Dir: t.TempDir(), Duration: quick}, config{fail: fail})
	if err != nil {
		t.Fatal(err)
	}
	arm, _ := Check(rep, "arm")
	amd, _ := Check(rep, "amd64")
	for n, want := range map[resource.Name]float64{
		resource.Random: 50000, resource.FileWrite: 60000, resource.FileRead: 60000, resource.CPU: 1, resource.Memory: 510000000,
	} {
		if arm[n] != want {
			t.Errorf("arm %s = %v, want %v", n, arm[n], want)
		}
	}
	if amd[resource.Random] != 200000 || amd[resource.FileWrite] != 1200000 {
		t.Errorf("amd64 random, filewrite = %v, %v; want the full defaults", amd[resource.Random], amd[resource.FileWrite])
	}
}

// TestRealMachine checks the real probes against what the system's own
// tools say about this machine.
func TestRealMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the cross-checks read Linux's /proc")
	}
	dir := t.TempDir()
	rep, err := Run(context.Background(), Options{Dir: dir, Duration: quick})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) > 0 {
		t.Fatalf("failures: %v", rep.Failures)
	}
	val := func(n resource.Name) float64 { return *rep.Resources[n] }
	notes := strings.Join(rep.Notes, "\n")

	// cpu: at most nproc (the CPUs we may use) and whole unless a quota cut it.
	nproc := atoi(t, run1(t, "nproc"))
	if cpu := val(resource.CPU); cpu <= 0 || cpu > float64(nproc) {
		t.Errorf("cpu = %v, want in (0, nproc = %d]", cpu, nproc)
	} else if !strings.Contains(notes, "capped at") && cpu != math.Trunc(cpu) {
		t.Errorf("cpu = %v: fractional without a quota", cpu)
	}
	// Without hyperthreads (lscpu: one thread per core) every usable CPU is a core.
	if threads := lscpuField(t, "Thread(s) per core"); threads == "1" && !strings.Contains(notes, "capped at") {
		if val(resource.CPU) != float64(nproc) {
			t.Errorf("cpu = %v, want nproc = %d on a machine without hyperthreads", val(resource.CPU), nproc)
		}
	}

	// memory: MemTotal in kB × 1000, or less when a cgroup limit says so.
	mi, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	memTotal, err := parseMemTotal(mi)
	if err != nil {
		t.Fatal(err)
	}
	if m := val(resource.Memory); strings.Contains(notes, "memory:") {
		if m >= memTotal {
			t.Errorf("memory = %v with a cgroup note, want below MemTotal %v", m, memTotal)
		}
	} else if m != memTotal {
		t.Errorf("memory = %v, want MemTotal × 1000 = %v", m, memTotal)
	}

	// diskused: what df reports as available, within what others write meanwhile.
	df := strings.Fields(strings.Split(strings.TrimSpace(run1(t, "df", "-P", "-B1", dir)), "\n")[1])
	avail := float64(atoi(t, df[3]))
	if d := val(resource.DiskUsed); math.Abs(d-avail) > 0.02*avail+1<<30 {
		t.Errorf("diskused = %v, df says %v available", d, avail)
	}

	// open files: a third of the limit a shell sees, not the raised one Go runs with.
	ulimit := atoi(t, run1(t, "sh", "-c", "ulimit -n"))
	for _, n := range []resource.Name{resource.FilesOpened, resource.InSockets, resource.OutSockets} {
		if val(n) != float64(ulimit/3) {
			t.Errorf("%s = %v, want ulimit -n / 3 = %d", n, val(n), ulimit/3)
		}
	}

	// rates: positive whole numbers, below what no machine does in small operations.
	for _, n := range []resource.Name{resource.Random, resource.FileWrite, resource.FileRead, resource.LoopSend, resource.LoopRecv, resource.LogRate} {
		if v := val(n); v < 1000 || v > 100e9 || v != math.Trunc(v) {
			t.Errorf("%s = %v bytes/s: not plausible", n, v)
		}
	}
	for _, n := range []resource.Name{resource.Events, resource.NetRecv, resource.NetSend} {
		if rep.Resources[n] != nil {
			t.Errorf("%s = %v, want not measured", n, *rep.Resources[n])
		}
	}
	if rep.ElapsedMS <= 0 {
		t.Errorf("elapsed_ms = %d", rep.ElapsedMS)
	}
	assertEmpty(t, dir)
}

func TestUnusableDirFailsOnlyTheDiskProbes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses /proc as a directory nobody can create files in")
	}
	rep, err := Run(context.Background(), Options{Dir: "/proc", Duration: quick})
	if err != nil {
		t.Fatal(err)
	}
	_, failures := Check(rep, runtime.GOARCH)
	got := map[resource.Name]string{}
	for _, f := range failures {
		got[f.Resource] = f.Error
	}
	for _, n := range []resource.Name{resource.DiskUsed, resource.FileWrite, resource.FileRead, resource.LogRate} {
		if got[n] == "" {
			t.Errorf("%s did not fail in /proc", n)
		}
	}
	if !strings.Contains(got[resource.FileWrite], "/proc") {
		t.Errorf("filewrite failure %q does not name the directory", got[resource.FileWrite])
	}
	for _, n := range []resource.Name{resource.CPU, resource.Memory, resource.Random, resource.LoopSend} {
		if got[n] != "" || rep.Resources[n] == nil {
			t.Errorf("%s: failed (%q) or not measured", n, got[n])
		}
	}
}

func TestCancelStopsPromptlyAndRemovesTheFiles(t *testing.T) {
	for _, n := range []resource.Name{resource.Random, resource.FileWrite, resource.FileRead, resource.LoopSend, resource.LoopRecv, resource.LogRate} {
		t.Run(string(n), func(t *testing.T) {
			if n == resource.FileRead && !readsPastTheCache(t) {
				t.Skip("fileread reuses the write rate on " + runtime.GOOS + ": there is no probe of its own to cancel")
			}
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cancelled time.Time
			hook := func(at resource.Name, starting bool) {
				if at == n && starting {
					time.AfterFunc(50*time.Millisecond, func() { cancelled = time.Now(); cancel() })
				}
			}
			// The other probes fail at once (fault seam) and this one has a
			// budget of minutes: only the cancellation ends it quickly.
			fail := map[resource.Name]error{}
			for _, m := range measured {
				if m != n {
					fail[m] = errors.New("skipped")
				}
			}
			_, err := run(ctx, Options{Dir: dir, Duration: 10 * time.Minute}, config{hook: hook, fail: fail})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if late := time.Since(cancelled); late > 30*time.Second {
				t.Errorf("Run returned %v after the cancel: it ran on instead of stopping", late)
			}
			assertEmpty(t, dir)
		})
	}
}

func TestProgressAdvancesThroughEveryProbe(t *testing.T) {
	var got []Progress
	_, err := Run(context.Background(), Options{Dir: t.TempDir(), Duration: quick, Progress: func(p Progress) { got = append(got, p) }})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[resource.Name]bool{}
	last := 0.0
	for _, p := range got {
		if p.Fraction < last || p.Fraction > 1 {
			t.Fatalf("fraction went from %v to %v", last, p.Fraction)
		}
		if p.Detail == "" {
			t.Errorf("progress %+v without detail", p)
		}
		last = p.Fraction
		seen[p.Resource] = true
	}
	if last != 1 || got[len(got)-1].Detail != "done" {
		t.Errorf("last progress %+v, want 1 and done", got[len(got)-1])
	}
	for _, n := range measured {
		if n != resource.InSockets && n != resource.OutSockets && !seen[n] {
			t.Errorf("no progress while measuring %s", n)
		}
	}
}

func TestMethodDescribesEveryResource(t *testing.T) {
	for _, n := range resource.All {
		m := Method(n)
		if m == "" {
			t.Errorf("%s has no description", n)
		}
		if isMeasured(n) == strings.HasPrefix(m, "not measured") {
			t.Errorf("%s: description %q disagrees with whether it is measured", n, m)
		}
	}
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

func lscpuField(t *testing.T, name string) string {
	t.Helper()
	for _, line := range strings.Split(run1(t, "lscpu"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("lscpu prints no %q", name)
	return ""
}

func run1(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

func TestRAMBackedDirIsNoted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a tmpfs is noted on Linux only (filesystemKind); /dev/shm is Linux's")
	}
	note, ok := filesystemKind("", "/dev/shm")
	if !ok {
		t.Fatalf("/dev/shm is not a tmpfs on this machine (%q): this test needs Linux's usual RAM-backed /dev/shm", note)
	}
	dir, err := os.MkdirTemp("/dev/shm", "seattle-benchmark-test")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rep, err := Run(context.Background(), Options{Dir: dir, Duration: quick})
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, dir+" is on a RAM-backed filesystem (tmpfs)") {
		t.Errorf("notes lack the tmpfs warning:\n%s", notes)
	}
	assertEmpty(t, dir)
}

func TestFileReadDropsTheCacheWithoutDirectIO(t *testing.T) {
	if !readsPastTheCache(t) {
		t.Skip("no page-cache control on " + runtime.GOOS + ": fileread reuses the write rate there")
	}
	fail := map[resource.Name]error{}
	for _, n := range measured {
		if n != resource.FileWrite && n != resource.FileRead {
			fail[n] = errors.New("skipped")
		}
	}
	dir := t.TempDir()
	rep, err := run(context.Background(), Options{Dir: dir, Duration: quick}, config{fail: fail, noDirect: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resources[resource.FileRead] == nil || len(rep.Failures) != len(fail) {
		t.Fatalf("fileread not measured: %+v", rep)
	}
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, "dropped from the page cache before each pass") {
		t.Errorf("notes lack the fallback:\n%s", notes)
	}
	assertEmpty(t, dir)
}

func TestDirNotYetCreatedIsMeasuredOnItsWay(t *testing.T) {
	base := t.TempDir()
	dir := base + "/seattle/v1"
	fail := map[resource.Name]error{}
	for _, n := range measured {
		if n != resource.DiskUsed && n != resource.FileWrite && n != resource.FileRead && n != resource.LogRate {
			fail[n] = errors.New("skipped")
		}
	}
	rep, err := run(context.Background(), Options{Dir: dir, Duration: quick}, config{fail: fail})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != len(fail) {
		t.Errorf("failures %v, want only the skipped ones", rep.Failures)
	}
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, dir+" does not exist yet: the disk was measured in "+base) {
		t.Errorf("notes:\n%s", notes)
	}
	assertEmpty(t, base) // nothing created, nothing left
}

// TestExistingDirSpelledLooselyHasNoNote: "DIR/", "DIR/." or "./DIR" name a
// directory that exists; only a missing one is worth a note.
func TestExistingDirSpelledLooselyHasNoNote(t *testing.T) {
	base := t.TempDir()
	fail := map[resource.Name]error{}
	for _, n := range measured {
		if n != resource.DiskUsed {
			fail[n] = errors.New("skipped")
		}
	}
	for _, dir := range []string{base + "/", base + "/.", base + "//", base + "/../" + filepath.Base(base)} {
		rep, err := run(context.Background(), Options{Dir: dir, Duration: quick}, config{fail: fail})
		if err != nil {
			t.Fatal(err)
		}
		if notes := strings.Join(rep.Notes, "\n"); strings.Contains(notes, "does not exist yet") {
			t.Errorf("--dir %s: notes say it is missing:\n%s", dir, notes)
		}
	}
}

// readsPastTheCache reports whether fileread can measure the disk on this
// OS, with an uncached open or by dropping the file from the page cache.
// Where it cannot (Windows, the BSDs), it reuses the write rate, as the
// original did.
func readsPastTheCache(t *testing.T) bool {
	t.Helper()
	name := filepath.Join(t.TempDir(), "cache-probe")
	if err := os.WriteFile(name, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, _, err := openUncached(name); err == nil {
		f.Close()
		return true
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return !errors.Is(dropCache(f), errNoCacheControl)
}
