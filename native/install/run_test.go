package install

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

const sample = "../assets/vesselinfo.sample"

// recorder is an Observer that keeps every event.
type recorder struct{ events []Event }

func (r *recorder) Event(e Event) { r.events = append(r.events, e) }

func (r *recorder) kinds() []string {
	var s []string
	for _, e := range r.events {
		s = append(s, string(e.Kind)+":"+string(e.Phase))
	}
	return s
}

func (r *recorder) has(kind EventKind, phase Phase) bool {
	for _, e := range r.events {
		if e.Kind == kind && e.Phase == phase {
			return true
		}
	}
	return false
}

// answer is a Prompter that answers every question with a, or fails.
type answer struct {
	a     string
	err   error
	asked []Prompt
}

func (p *answer) Ask(_ context.Context, q Prompt) (string, error) {
	p.asked = append(p.asked, q)
	return p.a, p.err
}

func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		if rel != "." {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// opts are those of an install into dir, with measurements from a file and
// the smallest key size (its generation takes seconds under qemu; the key
// tests of node_test.go check what is generated).
func opts(dir string) Options {
	return Options{Dir: dir, Vesselinfo: sample, Percent: 10, Measured: "testdata/measured.json", GOARCH: "amd64", KeyBits: seattlekey.MinBits}
}

// failingBenchmark replaces the benchmark for one test with one that fails
// as a whole, the way a machine the probes do not understand would.
func failingBenchmark(t *testing.T) {
	old := measure
	measure = func(context.Context, benchmark.Options) (benchmark.Report, error) {
		return benchmark.Report{}, errors.New("no probe works here")
	}
	t.Cleanup(func() { measure = old })
}

func TestRunInstallsFromMeasurements(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	res, err := Run(context.Background(), opts(dir), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Plan == nil || len(res.Files) == 0 {
		t.Fatalf("result %+v", res)
	}
	want := []string{".seattle-installer.manifest", "installInfo.old", "nodeman.cfg", "resource.v1", "resource.v2", "resource.v3", "resource.v4", "resources.offcut", "v1", "v2", "v3", "v4", "vesseldict"}
	if got := listing(t, dir); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the directory holds %v, want %v", got, want)
	}
	// 10% of 8000000000 = 800000000, − 4 × 1000000 = 796000000, tenth
	// 79600000, v1 (40%) 318400000.
	if got := res.Plan.Vessels[0].Resources[resource.Memory]; got != 318400000 {
		t.Errorf("v1 memory = %v, want 318400000", got)
	}
	log, _ := os.ReadFile(filepath.Join(dir, state.ServiceLogFile))
	for _, s := range []string{"Read vesselinfo", "Measurements read from testdata/measured.json", "Maximums used: cpu 4, memory 8000000000",
		"Percentage to donate: 10", "Donated: cpu 0.4", "times 4 vessels subtracted", "One tenth:", "v1 (40%)", "Writing into", "Install complete"} {
		if !strings.Contains(string(log), s) {
			t.Errorf("the service log lacks %q:\n%s", s, log)
		}
	}
	if res.LogPath != filepath.Join(dir, state.ServiceLogFile) {
		t.Errorf("LogPath = %s", res.LogPath)
	}
	// The events: every phase starts and finishes, in order, Overall never
	// goes back, and Finished comes last.
	var phases []Phase
	last := 0.0
	for _, e := range rec.events {
		if e.Kind == PhaseStarted {
			phases = append(phases, e.Phase)
		}
		if e.Overall < last-1e-9 || e.Overall > 1 {
			t.Errorf("Overall goes from %v to %v at %s %s", last, e.Overall, e.Kind, e.Phase)
		}
		last = e.Overall
	}
	if fmt.Sprint(phases) != fmt.Sprint([]Phase{PhaseVesselinfo, PhaseBenchmark, PhaseCheck, PhasePlan, PhaseWrite, PhaseLog}) {
		t.Errorf("phases started: %v", phases)
	}
	if end := rec.events[len(rec.events)-1]; end.Kind != Finished || end.Result != res || end.Overall != 1 {
		t.Errorf("the last event is %+v", end)
	}
	if !rec.has(Measured, PhaseCheck) || !rec.has(Planned, PhasePlan) || !rec.has(LogLine, "") {
		t.Errorf("events lack measured, planned or log lines: %v", rec.kinds())
	}
}

func TestRunDryRunWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	o := opts(dir)
	o.DryRun = true
	res, err := Run(context.Background(), o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Plan == nil || len(res.Plan.Vessels) != 4 || len(res.Files) != 0 {
		t.Errorf("result %+v", res)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dry run created %s", dir)
	}
}

func TestRunFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(t *testing.T, o *Options)
		want   []string // in the message
		logHas string   // in the kept log
		out    Outcome
		rem    Remedy
	}{
		{"bad_vesselinfo", func(t *testing.T, o *Options) {
			p := filepath.Join(t.TempDir(), "vesselinfo")
			os.WriteFile(p, []byte("Percent 40\nOwner 3 5\nowner 3 5\n"), 0o644)
			o.Vesselinfo = p
		}, []string{"vesselinfo has", "error", "Nothing was installed", "The install log is"}, ":3:", OutcomeBadVesselinfo, RemedyNewInstaller},
		{"oversized_vesselinfo", func(t *testing.T, o *Options) {
			o.Vesselinfo = writeTemp(t, "Percent 100\nOwner 3 5\n"+strings.Repeat("User 3 5\n", vesselinfo.MaxSize/9+1))
		}, []string{"larger than the limit"}, "larger than the limit", OutcomeBadVesselinfo, RemedyNewInstaller},
		{"binary_vesselinfo", func(t *testing.T, o *Options) {
			o.Vesselinfo = writeTemp(t, "\x00\xff\xfe\x1b[2J\x7fELF")
		}, []string{"error"}, ":1:", OutcomeBadVesselinfo, RemedyNewInstaller},
		{"missing_security_layer_directory", func(t *testing.T, o *Options) { o.RepyPrependDir = "/nonexistent/layer" }, []string{"security layer directory", "no such file"}, "no such file", OutcomeFailed, RemedySendLog},
		{"missing_vesselinfo", func(t *testing.T, o *Options) { o.Vesselinfo = "/nonexistent/vesselinfo" }, []string{"no such file", "Nothing was installed"}, "no such file", OutcomeBadVesselinfo, RemedyNewInstaller},
		{"vesselinfo_is_a_directory", func(t *testing.T, o *Options) { o.Vesselinfo = t.TempDir() }, []string{"is a directory"}, "is a directory", OutcomeBadVesselinfo, RemedyNewInstaller},
		{"insufficient_resources", func(t *testing.T, o *Options) {
			p := filepath.Join(t.TempDir(), "vesselinfo")
			os.WriteFile(p, []byte(strings.Repeat("Percent 10\nOwner 3 5\n", 10)), 0o644)
			o.Vesselinfo, o.Percent, o.Measured = p, 1, ""
			failingBenchmark(t)
			o.Yes = true
		}, []string{"nsufficient resources", "cpu would be"}, "Offcut", OutcomeInsufficient, RemedyLargerPercent},
		{"measurements_malformed", func(t *testing.T, o *Options) { o.Measured = writeTemp(t, `{"resources": [1, 2]`) }, []string{"not a measurements file"}, "FAILED", OutcomeBadMeasurements, RemedyMeasure},
		{"measurements_unknown_resource", func(t *testing.T, o *Options) { o.Measured = writeTemp(t, `{"resources": {"gpu": 1}}`) }, []string{"unknown resources", "gpu"}, "gpu", OutcomeBadMeasurements, RemedyMeasure},
		{"measurements_oversized", func(t *testing.T, o *Options) {
			o.Measured = writeTemp(t, `{"resources": {}, "notes": ["`+strings.Repeat("x", benchmark.MaxReportSize)+`"]}`)
		}, []string{"larger than"}, "larger than", OutcomeBadMeasurements, RemedyMeasure},
		{"measurements_missing", func(t *testing.T, o *Options) { o.Measured = "/nonexistent/bench.json" }, []string{"no such file"}, "no such file", OutcomeBadMeasurements, RemedyMeasure},
		{"percent_out_of_range", func(t *testing.T, o *Options) { o.Percent = 101 }, []string{"at most 100"}, "", OutcomeBadPercent, RemedyValidPercent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := opts(dir)
			tc.edit(t, &o)
			rec := &recorder{}
			res, err := Run(context.Background(), o, rec, nil)
			if err == nil || res.OK {
				t.Fatalf("the install succeeded: %+v", res)
			}
			if res.Outcome != tc.out || res.Remedy != tc.rem || res.Cause == nil {
				t.Errorf("outcome %q remedy %q cause %v, want %q %q", res.Outcome, res.Remedy, res.Cause, tc.out, tc.rem)
			}
			if res.Outcome == OutcomeBadVesselinfo && len(res.Problems) == 0 && !strings.Contains(tc.name, "missing") && !strings.Contains(tc.name, "directory") {
				t.Errorf("a bad vesselinfo lists no problems: %+v", res)
			}
			for _, s := range tc.want {
				if s = inThisOSsWords(s); !strings.Contains(res.Message, s) {
					t.Errorf("the message lacks %q: %s", s, res.Message)
				}
			}
			if ok, _ := state.Installed(dir); ok {
				t.Error("a failed install left a vesseldict")
			}
			if tc.logHas == "" {
				return
			}
			got := listing(t, dir)
			if fmt.Sprint(got) != "["+state.TempLogFile+"]" {
				t.Errorf("a failed install left %v, want only the log", got)
			}
			log, _ := os.ReadFile(filepath.Join(dir, state.TempLogFile))
			if !strings.Contains(string(log), inThisOSsWords(tc.logHas)) {
				t.Errorf("the kept log lacks %q:\n%s", tc.logHas, log)
			}
			if len(log) > 64<<10 {
				t.Errorf("the log is %d bytes: it copied a hostile input whole", len(log))
			}
			if res.LogPath != filepath.Join(dir, state.TempLogFile) {
				t.Errorf("LogPath = %q", res.LogPath)
			}
		})
	}
}

func writeTemp(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "bench.json")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunAsksAboutFailedMeasurements covers SPEC.md step 3: failures get
// defaults only when the donor agrees.
func TestRunAsksAboutFailedMeasurements(t *testing.T) {
	negative := `{"resources":{"cpu":2,"memory":-5,"diskused":1e10,"events":null,"filesopened":100,"insockets":100,"outsockets":100,"random":1e6,"filewrite":1e6,"fileread":1e6,"netrecv":null,"netsend":null,"lograte":null,"loopsend":null,"looprecv":null}}`
	for _, tc := range []struct {
		name    string
		bench   func(t *testing.T, o *Options)
		yes     bool
		ask     *answer
		wantOK  bool
		wantErr error
		logHas  string
	}{
		{"nobody_to_ask_means_no", func(t *testing.T, o *Options) { failingBenchmark(t); o.Measured = "" }, false, nil, false, ErrDeclined, "no probe works here"},
		{"yes_flag_continues", func(t *testing.T, o *Options) { failingBenchmark(t); o.Measured = "" }, true, nil, true, nil, "default values are used"},
		{"donor_says_continue", func(t *testing.T, o *Options) { failingBenchmark(t); o.Measured = "" }, false, &answer{a: "continue"}, true, nil, "(the donor)"},
		{"donor_says_cancel", func(t *testing.T, o *Options) { failingBenchmark(t); o.Measured = "" }, false, &answer{a: "cancel"}, false, ErrDeclined, "terminated"},
		{"asking_fails_means_no", func(t *testing.T, o *Options) { failingBenchmark(t); o.Measured = "" }, false, &answer{err: errors.New("window closed")}, false, ErrDeclined, "window closed"},
		{"negative_measurement_asks", func(t *testing.T, o *Options) { o.Measured = writeTemp(t, negative) }, false, &answer{a: "continue"}, true, nil, "Measurement failed for memory: measured -5, not positive; the default 510000000 is used"},
		{"negative_measurement_without_yes", func(t *testing.T, o *Options) { o.Measured = writeTemp(t, negative) }, false, nil, false, ErrDeclined, "memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := opts(dir)
			tc.bench(t, &o)
			o.Yes = tc.yes
			var ask Prompter
			if tc.ask != nil {
				ask = tc.ask
			}
			res, err := Run(context.Background(), o, nil, ask)
			if res.OK != tc.wantOK || !errors.Is(err, tc.wantErr) {
				t.Fatalf("OK %v err %v, want %v %v (%s)", res.OK, err, tc.wantOK, tc.wantErr, res.Message)
			}
			if !tc.wantOK && (res.Outcome != OutcomeDeclined || res.Remedy != RemedyAnswerYes || len(res.Failures) == 0) {
				t.Errorf("declined: outcome %q remedy %q failures %v", res.Outcome, res.Remedy, res.Failures)
			}
			if tc.ask != nil && len(tc.ask.asked) != 1 {
				t.Errorf("asked %d times, want once", len(tc.ask.asked))
			}
			if tc.ask != nil && len(tc.ask.asked) == 1 {
				p := tc.ask.asked[0]
				if p.Default != "cancel" || p.Choices[0] != "continue" || !strings.Contains(p.Question, "default") {
					t.Errorf("prompt %+v", p)
				}
			}
			logFile := state.TempLogFile
			if tc.wantOK {
				logFile = state.ServiceLogFile
			}
			log, _ := os.ReadFile(filepath.Join(dir, logFile))
			if !strings.Contains(string(log), inThisOSsWords(tc.logHas)) {
				t.Errorf("%s lacks %q:\n%s", logFile, tc.logHas, log)
			}
		})
	}
}

func TestRunRefusesAnInstalledDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), opts(dir), nil, nil); err != nil {
		t.Fatal(err)
	}
	before := listing(t, dir)
	res, err := Run(context.Background(), opts(dir), nil, nil)
	if !errors.Is(err, state.ErrAlreadyInstalled) || res.OK {
		t.Fatalf("err = %v", err)
	}
	if res.Outcome != OutcomeAlreadyInstalled || res.Remedy != RemedyUninstall || res.Dir != dir {
		t.Errorf("outcome %q remedy %q dir %q: the result does not say to uninstall %s", res.Outcome, res.Remedy, res.Dir, dir)
	}
	if after := listing(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the directory changed: %v -> %v", before, after)
	}
}

func TestRunCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := opts(dir)
	o.Measured = ""
	old := measure
	measure = func(ctx context.Context, _ benchmark.Options) (benchmark.Report, error) {
		return benchmark.Report{}, ctx.Err()
	}
	defer func() { measure = old }()
	res, err := Run(ctx, o, nil, &answer{a: "continue"})
	if !errors.Is(err, context.Canceled) || res.OK {
		t.Fatalf("err = %v", err)
	}
	if res.Outcome != OutcomeCancelled || res.Remedy != RemedyTryAgain || res.Outcome.Failed() {
		t.Errorf("a cancelled install is %q/%q, not a neutral cancel", res.Outcome, res.Remedy)
	}
	if ok, _ := state.Installed(dir); ok {
		t.Error("a cancelled install left a vesseldict")
	}
}

func TestRunUsesCommonFilesBesideTheInstaller(t *testing.T) {
	dir, beside := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(beside, "vessel.restrictions"), []byte("call sleep allow\n"), 0o644)
	os.WriteFile(filepath.Join(beside, "resources.offcut"), []byte("resource memory 0\n"), 0o644)
	o := opts(dir)
	o.AssetsDir = beside
	res, err := Run(context.Background(), o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// No offcut: 800000000 / 10 × 4 for v1.
	if got := res.Plan.Vessels[0].Resources[resource.Memory]; got != 320000000 {
		t.Errorf("v1 memory = %v, want 320000000", got)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "resource.v1"))
	if !strings.HasSuffix(string(b), "resource connport 63139\ncall sleep allow\n") {
		t.Errorf("resource.v1 does not end with the restrictions beside the installer:\n%s", b[len(b)-100:])
	}
	os.WriteFile(filepath.Join(beside, "resources.offcut"), []byte("resource memory lots\n"), 0o644)
	o2 := opts(t.TempDir())
	o2.AssetsDir = beside
	res, err = Run(context.Background(), o2, nil, nil)
	if err == nil || !strings.Contains(res.Message, "resources.offcut:1") {
		t.Errorf("a bad resources.offcut beside the installer: err %v, message %q", err, res.Message)
	}
}

// BenchmarkRunMeasured10Vessels is the whole install of ten vessels with
// --measured (no benchmark): read vesselinfo and the measurements, plan,
// write the state and the log, into a fresh directory each time.
func BenchmarkRunMeasured10Vessels(b *testing.B) {
	root := b.TempDir()
	vi := filepath.Join(root, "vesselinfo")
	var src strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&src, "Percent 10\nOwner 65537 %d\nUser 3 %d\n", 1000000007+i, 2000000011+i)
	}
	os.WriteFile(vi, []byte(src.String()), 0o644)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		o := opts(filepath.Join(root, fmt.Sprint(i)))
		o.Vesselinfo = vi
		if _, err := Run(context.Background(), o, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// inThisOSsWords turns an error text the checks expect in Linux's words into
// what this OS's says. Windows has no "no such file" (and Wine words its
// errors differently again), so there a message must still name what
// failed: the /nonexistent path.
func inThisOSsWords(s string) string {
	if runtime.GOOS == "windows" && s == "no such file" {
		return "nonexistent"
	}
	return s
}
