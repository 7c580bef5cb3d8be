// Package benchmark measures the donor machine: the maximum of each resource
// that this process, in its container, may really use.
//
// Counts (cpu, memory, disk, open files) come from the operating system and
// are capped by whatever confines the process (CPU affinity, cgroup quotas and
// limits). Rates (random, file, loopback, log) are measured in small
// operations, the conservative case, in many short rounds spread over every
// CPU the process may use, so that the same machine gives the same figures
// from one run to the next (see rates.go). One file per OS holds what
// differs (probe_linux.go, probe_darwin.go, probe_windows.go, probe_bsd.go,
// probe_other.go).
package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// Options say where and how to measure.
type Options struct {
	Dir      string         // the install directory: disk space and disk rates are measured there
	Progress func(Progress) // called as probes advance, never concurrently; may be nil

	// Duration is about how long the rate probes take together; 0 means
	// DefaultDuration. Shorter is quicker and noisier.
	Duration time.Duration
}

// DefaultDuration keeps the whole benchmark within 5 s on a small machine:
// about 3.2 s of rate rounds (most of it for the disk, the noisiest), the
// rest for setup and the counts.
const DefaultDuration = 3500 * time.Millisecond

// Progress reports how far the benchmark is.
type Progress struct {
	Fraction float64       // of the whole benchmark, 0..1
	Resource resource.Name // the probe running now
	Detail   string        // what it is doing, e.g. "disk write rate"
}

// ErrNotImplemented is what a probe returns on an operating system it has no
// way to measure; the install then uses the default and lists the failure.
var ErrNotImplemented = errors.New("no probe for this resource on " + runtime.GOOS)

// Run measures every resource. The report holds every resource of
// resource.All (nil = not measured) and the probes that failed; err is
// non-nil only when ctx is cancelled.
func Run(ctx context.Context, opts Options) (Report, error) {
	return run(ctx, opts, config{})
}

// config holds the test seams; the zero value measures this machine.
type config struct {
	root  string                    // prefix of /proc and /sys paths (gopsutil's HOST_PROC idea); "" = the real ones
	fail  map[resource.Name]error   // fault seam: these probes fail with this error instead of measuring
	hook  func(resource.Name, bool) // called before (true) and after (false) each probe, for the tests of cancellation
	trace func(round)               // called after each timed round of a CPU-bound rate; may be nil
	// noDirect makes fileread act as on a filesystem that refuses O_DIRECT
	// (this kernel's tmpfs accepts it), to test the fallback.
	noDirect bool
}

// A step measures one or more resources. Its run returns one value per name,
// or an error that applies to all of them.
type step struct {
	names  []resource.Name
	detail string
	share  float64                                                   // of Options.Duration spent in rate rounds; 0 for the counts
	run    func(*session, context.Context, *step) ([]float64, error) // a method of session
}

// The steps in the order they run: the quick counts first, then the
// CPU-bound rates in turns, then the disk rates, filewrite before fileread,
// whose write rate it falls back to where reads cannot bypass the page cache.
// The CPU-bound rates come before the disk's: the disk's synced writes leave
// the device (and, in a virtual machine, the host) busy for a while after.
var steps = []step{
	{names: []resource.Name{resource.CPU}, detail: "counting processors", run: (*session).cpu},
	{names: []resource.Name{resource.Memory}, detail: "reading total memory", run: (*session).memory},
	{names: []resource.Name{resource.DiskUsed}, detail: "reading free disk space", run: (*session).disk},
	{names: []resource.Name{resource.FilesOpened, resource.InSockets, resource.OutSockets}, detail: "reading the open-files limit", run: (*session).openFiles},
	{names: []resource.Name{resource.Random, resource.LoopSend, resource.LoopRecv, resource.LogRate}, detail: "random, loopback TCP, log lines, in turns", share: 0.32, run: (*session).cpuRates},
	{names: []resource.Name{resource.FileWrite}, detail: "writing 4 KiB blocks, each synced to disk", share: 0.32, run: (*session).fileWrite},
	{names: []resource.Name{resource.FileRead}, detail: "reading 4 KiB blocks past the page cache", share: 0.28, run: (*session).fileRead},
}

// Method says in a few words how a resource is measured (on this OS), for
// the benchmark's table and the donor's window.
func Method(n resource.Name) string {
	if m, ok := methods[n]; ok {
		return m
	}
	return "not measured: the default is used, as in the original"
}

var methods = map[resource.Name]string{
	resource.CPU:         "physical cores, capped by CPU affinity and the cgroup CPU quota",
	resource.Memory:      "total physical memory, capped by the cgroup memory limits",
	resource.DiskUsed:    "space free to an unprivileged user where it installs",
	resource.FilesOpened: "a third of the open-files limit the program started with",
	resource.InSockets:   "a third of the open-files limit the program started with",
	resource.OutSockets:  "a third of the open-files limit the program started with",
	resource.Random:      "64-byte reads of the OS's secure random source",
	resource.FileWrite:   "4 KiB writes, each synced to the disk",
	resource.FileRead:    "4 KiB reads that bypass the page cache",
	resource.LoopSend:    "1 KiB messages sent over loopback TCP",
	resource.LoopRecv:    "1 KiB reads received over loopback TCP",
	resource.LogRate:     "log lines appended to a file, one write each",
}

// countShare is the weight of a count step in the progress fraction.
const countShare = 0.015

// session is one run of the benchmark.
type session struct {
	cfg      config
	dir      string
	duration time.Duration
	notes    []string
	temps    []string // files to remove when the run ends, however it ends
	written  string   // the file the disk rates write over and read
	wrote    float64  // the filewrite rate, 0 if it failed
	done     float64  // progress: shares finished
	total    float64
	progress func(Progress)
}

func run(ctx context.Context, opts Options, cfg config) (Report, error) {
	start := time.Now()
	rep := Report{Resources: make(map[resource.Name]*float64, len(resource.All))}
	for _, n := range resource.All {
		rep.Resources[n] = nil // present and not measured unless a step says otherwise
	}
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	s := &session{cfg: cfg, dir: existingAncestor(dir), duration: opts.Duration, progress: opts.Progress}
	if s.dir != filepath.Clean(dir) { // "./x" is x: only a missing directory is news
		s.note("%s does not exist yet: the disk was measured in %s, on the way to it", dir, s.dir)
	}
	if s.duration <= 0 {
		s.duration = DefaultDuration
	}
	defer s.cleanup()
	for _, st := range steps {
		s.total += st.weight()
	}
	s.noteFilesystem()
	for i := range steps {
		st := &steps[i]
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		s.report(st.names[0], 0, st)
		if cfg.hook != nil {
			for _, n := range st.names {
				cfg.hook(n, true)
			}
		}
		vals, err := s.runStep(ctx, st)
		if cfg.hook != nil {
			for _, n := range st.names {
				cfg.hook(n, false)
			}
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return rep, ctxErr
		}
		var some rateErrors // some of the step's resources failed, the others were measured
		errors.As(err, &some)
		for j, n := range st.names {
			switch {
			case cfg.fail[n] != nil:
				rep.Failures = append(rep.Failures, Failure{Resource: n, Error: cfg.fail[n].Error()})
			case some[n] != nil:
				rep.Failures = append(rep.Failures, Failure{Resource: n, Error: some[n].Error()})
			case err != nil && some == nil:
				rep.Failures = append(rep.Failures, Failure{Resource: n, Error: err.Error()})
			default:
				v := vals[j]
				rep.Resources[n] = &v
			}
		}
		s.done += st.weight()
	}
	s.report(resource.LogRate, 0, nil)
	rep.Notes = s.notes
	rep.ElapsedMS = time.Since(start).Milliseconds()
	return rep, nil
}

// runStep runs a step unless the fault seam fails all its resources.
func (s *session) runStep(ctx context.Context, st *step) ([]float64, error) {
	allFail := true
	for _, n := range st.names {
		allFail = allFail && s.cfg.fail[n] != nil
	}
	if allFail {
		return nil, s.cfg.fail[st.names[0]]
	}
	vals, err := st.run(s, ctx, st)
	var some rateErrors
	if (err == nil || errors.As(err, &some)) && len(vals) != len(st.names) {
		return vals, fmt.Errorf("internal error: %d values for %d resources", len(vals), len(st.names))
	}
	if err != nil && some == nil {
		return vals, err
	}
	for j, v := range vals {
		if n := st.names[j]; some[n] == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			if some == nil {
				some = rateErrors{}
			}
			some[n] = fmt.Errorf("measured %v", v)
		}
	}
	if some != nil {
		return vals, some
	}
	return vals, nil
}

func (st *step) weight() float64 {
	if st.share == 0 {
		return countShare
	}
	return st.share
}

// report sends progress: within is the fraction of step st done; st nil
// means the whole benchmark is done.
func (s *session) report(n resource.Name, within float64, st *step) {
	if s.progress == nil {
		return
	}
	if st == nil {
		s.progress(Progress{Fraction: 1, Resource: n, Detail: "done"})
		return
	}
	f := (s.done + within*st.weight()) / s.total
	s.progress(Progress{Fraction: min(f, 1), Resource: n, Detail: st.detail})
}

// existingAncestor returns dir, or if it does not exist yet (the install
// creates it later), its nearest ancestor that does: the filesystem the
// install will write to. It creates nothing.
func existingAncestor(dir string) string {
	d := filepath.Clean(dir)
	for {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

func (s *session) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// tempFile creates a file in the install directory that cleanup removes.
func (s *session) tempFile(kind string) (*os.File, error) {
	f, err := os.CreateTemp(s.dir, ".seattle-benchmark-"+kind+"-*")
	if err != nil {
		return nil, fmt.Errorf("create a temporary file in %s: %w", s.dir, err)
	}
	s.temps = append(s.temps, f.Name())
	return f, nil
}

func (s *session) cleanup() {
	for _, p := range s.temps {
		os.Remove(p)
	}
	s.temps = nil
}

func (s *session) cpu(ctx context.Context, _ *step) ([]float64, error) {
	v, note, err := probeCPU(ctx, s.cfg.root)
	if note != "" {
		s.note("cpu: %s", note)
	}
	return []float64{v}, err
}

func (s *session) memory(ctx context.Context, _ *step) ([]float64, error) {
	v, note, err := probeMemory(ctx, s.cfg.root)
	if note != "" {
		s.note("memory: %s", note)
	}
	return []float64{math.Floor(v)}, err
}

func (s *session) disk(ctx context.Context, _ *step) ([]float64, error) {
	v, err := probeDisk(ctx, s.dir)
	if err == nil && v < 1 {
		// Check would call it "not positive"; say what it means.
		err = fmt.Errorf("no free space for an unprivileged user on the filesystem of %s", s.dir)
	}
	return []float64{math.Floor(v)}, err
}

func (s *session) openFiles(ctx context.Context, _ *step) ([]float64, error) {
	files, in, out, note, err := probeOpenFiles(ctx)
	if note != "" {
		s.note("filesopened, insockets, outsockets: %s", note)
	}
	return []float64{files, in, out}, err
}

// noteFilesystem notes when the install directory's filesystem makes the
// file rates describe something other than a disk.
func (s *session) noteFilesystem() {
	if why, ok := filesystemKind(s.cfg.root, s.dir); ok {
		s.note("filewrite, fileread, lograte: %s is on %s", s.dir, why)
	}
}
