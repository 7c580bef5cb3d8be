//go:build linux

package main

// End-to-end tests of `benchmark` on the real binary. Linux only: they check
// the figures against /proc, df and the shell's ulimit, and draw on a
// pseudo-terminal (openPTY, in install_linux_test.go).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
	"github.com/seattletestbed/seattle-installer/native/resource"
)

func TestBenchmarkJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runBinary(t, "", "benchmark", "--json", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("--json wrote to stderr: %q", r.stderr)
	}
	// Every resource is present, in the order of the resource table, and
	// the three unmeasured ones are null.
	var raw struct {
		Resources map[string]*float64 `json:"resources"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	last := -1
	for _, n := range resource.All {
		v, ok := raw.Resources[string(n)]
		if !ok {
			t.Errorf("%s missing", n)
		}
		if unmeasured := n == resource.Events || n == resource.NetRecv || n == resource.NetSend; unmeasured != (v == nil) {
			t.Errorf("%s = %v", n, v)
		}
		at := strings.Index(r.stdout, `"`+string(n)+`":`)
		if at < last {
			t.Errorf("%s out of order", n)
		}
		last = at
	}
	// The file is what `install --measured` reads.
	saved := filepath.Join(t.TempDir(), "measured.json")
	if err := os.WriteFile(saved, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := benchmark.ReadReport(saved)
	if err != nil {
		t.Fatalf("ReadReport: %v", err)
	}
	vals, failures := benchmark.Check(rep, "amd64")
	if len(failures) > 0 {
		t.Errorf("failures on this machine: %v", failures)
	}
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	var kb float64
	for _, line := range strings.Split(string(meminfo), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" {
			kb, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	if m := vals[resource.Memory]; m <= 0 || m > kb*1000 {
		t.Errorf("memory = %v, MemTotal says %v kB", m, kb)
	}
	nproc, _ := exec.Command("nproc").Output()
	if n, _ := strconv.ParseFloat(strings.TrimSpace(string(nproc)), 64); vals[resource.CPU] > n {
		t.Errorf("cpu = %v, more than nproc %v", vals[resource.CPU], n)
	}
	if rep.ElapsedMS <= 0 {
		t.Errorf("elapsed_ms = %d", rep.ElapsedMS)
	}
	assertNothingLeft(t, dir)
}

// TestBenchmarkReadsTheLimitItWasStartedWith lowers the open-files limit in
// a shell before starting the binary: Go raises the soft limit at start-up,
// and the benchmark must still count the one the donor gave it.
func TestBenchmarkReadsTheLimitItWasStartedWith(t *testing.T) {
	out, err := exec.Command("sh", append([]string{"-c", `ulimit -n 999 && exec "$@"`, "sh"}, testbin.Argv(binPath, "benchmark", "--json", "--dir", t.TempDir())...)...).Output()
	if err != nil {
		t.Fatalf("benchmark under ulimit -n 999: %v", err)
	}
	var rep struct {
		Resources map[string]float64 `json:"resources"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"filesopened", "insockets", "outsockets"} {
		if rep.Resources[n] != 333 {
			t.Errorf("%s = %v, want 999 / 3 = 333", n, rep.Resources[n])
		}
	}
}

func TestBenchmarkTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runBinary(t, "", "benchmark", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("no terminal, yet stderr got %q", r.stderr)
	}
	for _, want := range []string{
		"RESOURCE", "cpu ", " core", "memory ", " GB", "filesopened ", " files", "insockets ", " sockets",
		"filewrite ", "B/s", "events       not measured (default 500 threads)", "synced to the disk",
		"benchmark --json > measured.json",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Failures") {
		t.Errorf("failures on this machine:\n%s", r.stdout)
	}
	assertNothingLeft(t, dir)
}

func TestBenchmarkListsFailures(t *testing.T) {
	t.Parallel()
	// Nobody can create files in /proc: the disk probes fail, the rest is
	// measured, and that is still a measurement (exit 0).
	r := runBinary(t, "", "benchmark", "--dir", "/proc")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	// The default of a failed filewrite is 1.2 MB/s, and a twentieth of it on
	// 32-bit ARM (SPEC.md), as this test sees when run under qemu-arm.
	filewrite := "filewrite    failed (default 1.2 MB/s)"
	if runtime.GOARCH == "arm" {
		filewrite = "filewrite    failed (default 60 kB/s)"
	}
	for _, want := range []string{"Failures (the install uses the default", "filewrite: create a temporary file in /proc", filewrite} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runBinary(t, "", "benchmark", "--json", "--dir", "/proc")
	var rep benchmark.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != exitOK {
		t.Fatalf("exit %d, %v\n%s", r.code, err, r.stdout)
	}
	listed := map[resource.Name]bool{}
	for _, f := range rep.Failures {
		listed[f.Resource] = true
	}
	for _, n := range []resource.Name{resource.DiskUsed, resource.FileWrite, resource.FileRead, resource.LogRate} {
		if !listed[n] {
			t.Errorf("%s not among the failures %v", n, rep.Failures)
		}
	}
}

func TestBenchmarkUsage(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		in   string
	}{
		{"help teaches", []string{"benchmark", "--help"}, exitOK, "install --measured measured.json"},
		{"help lists flags", []string{"benchmark", "-h"}, exitOK, "-dir DIR"},
		{"listed among the commands", []string{"--help"}, exitOK, "benchmark  measure"},
		{"stray argument", []string{"benchmark", "/tmp"}, exitUsage, `unexpected argument "/tmp"`},
		{"unknown flag", []string{"benchmark", "--fast"}, exitUsage, "flag provided but not defined"},
		{"missing dir", []string{"benchmark", "--dir", "/nonexistent/x"}, exitUsage, "no such file or directory"},
		{"dir is a file", []string{"benchmark", "--dir", file}, exitUsage, "is not a directory"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := runBinary(t, "", tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tc.in) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tc.in, r.stdout, r.stderr)
			}
		})
	}
}

// TestBenchmarkInterrupted sends Ctrl-C while the disk is being measured:
// exit 1, a message, and the temporary file gone.
func TestBenchmarkInterrupted(t *testing.T) {
	dir := t.TempDir()
	cmd := testbin.Command(context.Background(), binPath, "benchmark", "--dir", dir)
	cmd.Env = append(os.Environ(), benchmarkTimeEnv+"=") // long enough to be interrupted
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		ents, _ := os.ReadDir(dir)
		if len(ents) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the benchmark never created its temporary file")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitFail {
		t.Errorf("exit %d (%v), want %d\nstderr: %s", code, err, exitFail, stderr.String())
	}
	if !strings.Contains(stderr.String(), "benchmark: stopped: interrupted") {
		t.Errorf("stderr %q does not say it stopped", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("an interrupted benchmark printed figures: %s", stdout.String())
	}
	assertNothingLeft(t, dir)
}

// TestBenchmarkProgressOnATerminal runs the binary with standard error on a
// real pseudo-terminal: the bar is drawn there, names the probes, and the
// table still goes to standard output.
func TestBenchmarkProgressOnATerminal(t *testing.T) {
	for _, tc := range []struct {
		name string
		json bool
	}{{"table", false}, {"json draws nothing", true}} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			master, tty := openPTY(t)
			var scr screen
			drained := make(chan struct{})
			go func() { teeTo(master, &scr); close(drained) }()
			args := []string{"benchmark", "--dir", t.TempDir()}
			if tc.json {
				args = append(args, "--json")
			}
			cmd := testbin.Command(context.Background(), binPath, args...)
			if !tc.json {
				// The whole benchmark, so that the bar has time to name
				// the probes.
				cmd.Env = append(os.Environ(), benchmarkTimeEnv+"=")
			}
			var stdout bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, tty
			if err := cmd.Run(); err != nil {
				t.Fatalf("run: %v", err)
			}
			// With the last terminal side closed, the master reads what is
			// left and then fails: teeTo returns once it has read it all.
			tty.Close()
			select {
			case <-drained:
			case <-time.After(30 * time.Second):
				t.Fatal("the terminal was not drained within 30 s")
			}
			drawn := scr.String()
			if tc.json {
				if drawn != "" {
					t.Errorf("--json drew on the terminal: %q", drawn)
				}
				return
			}
			for _, want := range []string{"%", "filewrite", "synced"} {
				if !strings.Contains(drawn, want) {
					t.Errorf("the terminal never showed %q:\n%q", want, drawn)
				}
			}
			if !strings.Contains(stdout.String(), "RESOURCE") || strings.Contains(stdout.String(), "%") {
				t.Errorf("stdout should hold only the table:\n%s", stdout.String())
			}
		})
	}
}

// teeTo copies what the terminal shows into s until the terminal closes.
func teeTo(master *os.File, s *screen) {
	buf := make([]byte, 4096)
	for {
		n, err := master.Read(buf)
		s.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

func assertNothingLeft(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

func TestBenchmarkUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    resource.Name
		v    float64
		want string
	}{
		{resource.CPU, 1, "1 core"},
		{resource.CPU, 2, "2 cores"},
		{resource.CPU, 1.5, "1.5 cores"},
		{resource.Memory, 23.4e9, "23.4 GB"},
		{resource.Memory, 510000000, "510 MB"},
		{resource.DiskUsed, 999, "999 B"},
		{resource.DiskUsed, 3.7e12, "3.7 TB"},
		{resource.FilesOpened, 6666, "6666 files"},
		{resource.OutSockets, 250, "250 sockets"},
		{resource.Events, 500, "500 threads"},
		{resource.FileWrite, 412e6, "412 MB/s"},
		{resource.Random, 200000, "200 kB/s"},
		{resource.LoopRecv, 2.96e9, "3 GB/s"},
	} {
		if got := formatValue(tc.n, tc.v); got != tc.want {
			t.Errorf("formatValue(%s, %v) = %q, want %q", tc.n, tc.v, got, tc.want)
		}
	}
}

// TestBenchStabilityScript runs scripts/bench-stability (make
// bench-stability) on the real binary: two separate runs, each rate's
// median, CV and range, the CV recomputed here from the runs it printed.
func TestBenchStabilityScript(t *testing.T) {
	script, err := filepath.Abs("../../../scripts/bench-stability")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The script runs the binary itself: behind an emulator, through a
	// script that starts it there.
	binPath := testbin.Program(t, binPath)
	out, err := exec.Command(script, "-n", "2", "--dir", dir, binPath).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"before: load average", "after:  load average", "run 1/2", "run 2/2", "wall time per run"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// The runs' figures as printed ("random 432.1, filewrite 9.3, ... MB/s").
	runs := map[string][]float64{}
	for _, line := range strings.Split(text, "\n") {
		_, figs, ok := strings.Cut(line, " s: ")
		if !ok || !strings.Contains(line, "run ") {
			continue
		}
		for _, f := range strings.Split(strings.TrimSuffix(figs, " MB/s"), ", ") {
			name, v, _ := strings.Cut(f, " ")
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("run line %q: %v", line, err)
			}
			runs[name] = append(runs[name], x)
		}
	}
	for _, n := range []string{"random", "filewrite", "fileread", "loopsend", "looprecv", "lograte"} {
		v := runs[n]
		if len(v) != 2 {
			t.Fatalf("%s: %d runs printed, want 2:\n%s", n, len(v), text)
		}
		// Sample standard deviation of two values: |a-b|/√2.
		mean := (v[0] + v[1]) / 2
		wantCV := 100 * abs(v[0]-v[1]) / sqrt2 / mean
		var med, cv float64
		var lo, hi float64
		found := false
		for _, line := range strings.Split(text, "\n") {
			if f := strings.Fields(line); len(f) >= 6 && f[0] == n && f[2] == "MB/s" {
				med, _ = strconv.ParseFloat(f[1], 64)
				cv, _ = strconv.ParseFloat(strings.TrimSuffix(f[3], "%"), 64)
				r := strings.SplitN(f[4], "-", 2)
				lo, _ = strconv.ParseFloat(r[0], 64)
				hi, _ = strconv.ParseFloat(r[1], 64)
				found = true
			}
		}
		if !found {
			t.Fatalf("no summary row for %s:\n%s", n, text)
		}
		// The printed runs are rounded to 0.1 MB/s; allow for that.
		if abs(med-mean) > 0.11 || abs(cv-wantCV) > 0.2+100*0.1/mean || lo != min(v[0], v[1]) || hi != max(v[0], v[1]) {
			t.Errorf("%s: median %v, CV %v%%, range %v-%v; from the runs %v want %v, %.2f%%, %v-%v",
				n, med, cv, lo, hi, v, mean, wantCV, min(v[0], v[1]), max(v[0], v[1]))
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the runs left %d files in %s", len(ents), dir)
	}
	// Two binaries (here the same one under two names) run in turns, the
	// first one first in run 1 and second in run 2, each with its table.
	other := filepath.Join(t.TempDir(), "other-installer")
	if err := os.Symlink(binPath, other); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(script, "-n", "2", "--dir", dir, binPath, other).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var order []string
	for _, line := range strings.Split(string(out), "\n") {
		if who, _, ok := strings.Cut(strings.TrimSpace(line), ": run "); ok && strings.Contains(line, " s: ") {
			order = append(order, who)
		}
	}
	if want := []string{binPath, other, other, binPath}; !slices.Equal(order, want) {
		t.Errorf("runs in the order %v, want %v:\n%s", order, want, out)
	}
	for _, b := range []string{binPath, other} {
		if !strings.Contains(string(out), "== "+b+"\n") {
			t.Errorf("no table for %s:\n%s", b, out)
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"one run has no CV", []string{"-n", "1", binPath}, 2},
		{"a missing binary", []string{filepath.Join(dir, "nothing-here")}, 2},
		{"a missing second binary", []string{binPath, filepath.Join(dir, "nothing-here")}, 2},
		{"a binary that fails", []string{"-n", "2", "/bin/false"}, 1},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			out, err := exec.Command(script, tc.args...).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
				t.Errorf("exit %v, want %d\n%s", err, tc.code, out)
			}
		})
	}
}

const sqrt2 = 1.4142135623730951

func abs(x float64) float64 { return max(x, -x) }

// TestBenchStabilityBesideFio runs scripts/bench-stability --fio: after each
// run of the benchmark, fio measures the same directory with the same
// pattern, and the script prints fio's CV and our rate over fio's, run by
// run, recomputed here from the figures it printed.
func TestBenchStabilityBesideFio(t *testing.T) {
	if _, err := exec.LookPath("fio"); err != nil {
		t.Fatalf("fio is not installed (make deps installs the Debian package): %v", err)
	}
	script, err := filepath.Abs("../../../scripts/bench-stability")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, err := exec.Command(script, "-n", "2", "--fio", "--dir", dir, testbin.Program(t, binPath)).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	text := string(out)
	// "  run 1/2 ... 3.30 s: random 1.0, filewrite 2.0, ... MB/s" and
	// "  fio 1/2: filewrite 2.1, fileread 3.2 MB/s", alternating.
	figures := func(line string) map[string]float64 {
		m := map[string]float64{}
		_, figs, _ := strings.Cut(line, ": ")
		if _, after, ok := strings.Cut(figs, " s: "); ok {
			figs = after
		}
		for _, f := range strings.Split(strings.TrimSuffix(figs, " MB/s"), ", ") {
			name, v, _ := strings.Cut(f, " ")
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			m[name] = x
		}
		return m
	}
	var ours, fio []map[string]float64
	for _, line := range strings.Split(text, "\n") {
		switch l := strings.TrimSpace(line); {
		case strings.HasPrefix(l, "run ") && strings.Contains(l, " s: "):
			ours = append(ours, figures(l))
		case strings.HasPrefix(l, "fio ") && strings.Contains(l, "/2: "):
			if len(fio) != len(ours)-1 {
				t.Fatalf("fio did not run right after run %d:\n%s", len(ours), text)
			}
			fio = append(fio, figures(l))
		}
	}
	if len(ours) != 2 || len(fio) != 2 {
		t.Fatalf("%d runs and %d fio runs printed, want 2 each:\n%s", len(ours), len(fio), text)
	}
	for _, n := range []string{"filewrite", "fileread"} {
		f := []float64{fio[0][n], fio[1][n]}
		if f[0] <= 0 || f[1] <= 0 {
			t.Fatalf("fio %s: %v:\n%s", n, f, text)
		}
		mean := (f[0] + f[1]) / 2
		wantCV := 100 * abs(f[0]-f[1]) / sqrt2 / mean
		// Ratios from the rounded figures printed: allow for the rounding.
		r0, r1 := ours[0][n]/f[0], ours[1][n]/f[1]
		wantRatio := (r0 + r1) / 2
		var row []string
		for _, line := range strings.Split(text[strings.Index(text, "\nfio, same directory"):], "\n") {
			if fs := strings.Fields(line); len(fs) >= 8 && fs[0] == n {
				row = fs
			}
		}
		if row == nil {
			t.Fatalf("no fio row for %s:\n%s", n, text)
		}
		med, _ := strconv.ParseFloat(row[1], 64)
		cv, _ := strconv.ParseFloat(strings.TrimSuffix(row[3], "%"), 64)
		ratio, _ := strconv.ParseFloat(row[6], 64)
		if abs(med-mean) > 0.11 || abs(cv-wantCV) > 0.2+100*0.1/mean || abs(ratio-wantRatio) > 0.01+0.2/min(f[0], f[1]) {
			t.Errorf("%s row %q; from fio %v and ours %v, %v want median %.1f, CV %.2f%%, ratio %.2f",
				n, strings.Join(row, " "), f, ours[0][n], ours[1][n], mean, wantCV, wantRatio)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the runs and fio left %d files in %s", len(ents), dir)
	}
	// Without fio, --fio is a usage error that says what to install.
	cmd := exec.Command(script, "-n", "2", "--fio", "--dir", dir, testbin.Program(t, binPath))
	cmd.Env = append(os.Environ(), "FIO="+filepath.Join(t.TempDir(), "fio"))
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "--fio needs fio") {
		t.Errorf("without fio: %v\n%s", err, out)
	}
}
