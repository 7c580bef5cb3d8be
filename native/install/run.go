package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seattletestbed/seattle-installer/native/assets"
	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/nodeman"
	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/native/servicelog"
	"github.com/seattletestbed/seattle-installer/native/startup"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// measure is the benchmark; tests replace it to play a benchmark that
// fails or measures given values without measuring this machine.
var measure = benchmark.Run

// Where each phase sits in the whole install, for Event.Overall. The
// benchmark dominates when it runs.
var span = map[Phase][2]float64{
	PhaseVesselinfo: {0, 0.05},
	PhaseBenchmark:  {0.05, 0.70},
	PhaseCheck:      {0.70, 0.75},
	PhasePlan:       {0.75, 0.80},
	PhaseWrite:      {0.80, 0.98},
	PhaseLog:        {0.98, 1},
}

// runner is one install in progress.
type runner struct {
	opts Options
	obs  Observer
	ask  Prompter

	mu      sync.Mutex // the benchmark may report progress from its own goroutine
	overall float64    // of the last event, for events outside any phase
	log     io.WriteCloser
	logPath string
	logText bytes.Buffer // this run's log lines, for the service log
	lock    *state.Lock  // held from prepare to the end of the run
	prompts int
}

func newRunner(opts Options, obs Observer, ask Prompter) *runner {
	return &runner{opts: opts, obs: obs, ask: ask}
}

func (r *runner) emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Overall == 0 && e.Phase == "" {
		e.Overall = r.overall
	}
	if e.Overall == 0 && e.Phase != "" {
		s := span[e.Phase]
		switch e.Kind {
		case PhaseStarted, Measured:
			e.Overall = s[0]
		case PhaseDone, Planned:
			e.Overall = s[1]
		default:
			e.Overall = s[0] + (s[1]-s[0])*e.Fraction
		}
	}
	r.overall = e.Overall
	if r.obs != nil {
		r.obs.Event(e)
	}
}

func (r *runner) start(p Phase, detail string) {
	state.Checkpoint("start of phase " + string(p))
	r.emit(Event{Kind: PhaseStarted, Phase: p, Detail: detail})
}

func (r *runner) done(p Phase, detail string) {
	r.emit(Event{Kind: PhaseDone, Phase: p, Detail: detail})
}

// logf writes one line to the install log and reports it as a LogLine.
// A failing log never stops the install: the events still carry the line.
func (r *runner) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if r.log != nil {
		io.WriteString(r.log, line+"\n")
		r.logText.WriteString(line + "\n")
	}
	r.emit(Event{Kind: LogLine, Detail: line})
}

// failure ends the install: the phase failed, the log says why, and the
// result says what happened (outcome), what was left on disk, and what
// would help (remedy); each front end words the advice itself.
func (r *runner) failure(p Phase, res *Result, err error, out Outcome, rem Remedy) (*Result, error) {
	if ctxErr := (cancelled{}); errors.As(err, &ctxErr) {
		out, rem = OutcomeCancelled, RemedyTryAgain
	}
	r.logf("FAILED (%s): %v", p, err)
	r.emit(Event{Kind: PhaseFailed, Phase: p, Err: err, Detail: err.Error()})
	res.OK = false
	res.Files = nil
	res.Outcome, res.Remedy, res.Phase, res.Cause = out, rem, p, err
	left := "Nothing was installed."
	if out == OutcomeAlreadyInstalled {
		left = "Nothing was changed."
	}
	res.Message = sentence(err.Error()) + " " + left
	if r.logPath != "" {
		res.LogPath = r.logPath
		res.Left = []string{r.logPath}
		res.Message += " The install log is " + r.logPath + "."
	}
	return res, err
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	o := &r.opts
	res := &Result{DryRun: o.DryRun}
	if o.Percent <= 0 || o.Percent > 100 || o.Percent != o.Percent {
		err := fmt.Errorf("the percentage to donate is %v; it must be more than 0 and at most 100", o.Percent)
		return r.failure(PhaseVesselinfo, res, err, OutcomeBadPercent, RemedyValidPercent)
	}
	if o.GOARCH == "" {
		o.GOARCH = runtime.GOARCH
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return r.failure(PhaseVesselinfo, res, fmt.Errorf("install directory %q: %w", o.Dir, err), OutcomeFailed, RemedyChooseDir)
	}
	o.Dir, res.Dir = dir, dir
	if o.OnlyNetwork {
		return r.onlyNetwork(res)
	}

	if !o.DryRun {
		err := r.prepare()
		defer r.lock.Release()
		if err != nil {
			var locked *state.LockedError
			var unsafe *state.UnsafeDirError
			res.Phase, res.Cause = PhaseVesselinfo, err
			switch {
			case errors.As(err, &locked):
				res.Outcome, res.Remedy = OutcomeBusy, RemedyWait
				res.Message = err.Error() + "; nothing was touched."
				return res, err
			case errors.As(err, &unsafe):
				res.Outcome, res.Remedy = OutcomeUnsafeDir, RemedyChooseDir
				res.Message = sentence(err.Error())
				return res, err
			}
			if errors.Is(err, state.ErrAlreadyInstalled) || errors.Is(err, errCompleted) {
				if rec, rerr := startup.ReadRecord(dir); rerr == nil && rec.Pending() {
					// Killed after the commit: finish starting the node.
					res.OK = true
					res.Outcome, res.Cause = OutcomeCompleted, nil
					res.LogPath = filepath.Join(dir, state.ServiceLogFile)
					res.Node = r.finishNode(ctx, rec)
					res.Message = fmt.Sprintf("An earlier install into %s was interrupted after its state was complete; this run finished it. The install log is %s.", dir, res.LogPath)
					return res, nil
				}
			}
			if errors.Is(err, errConfigInstalled) {
				servicelog.Log(dir, "An install attempt was refused: "+nodeman.File+" says this node is installed already.")
				res.Outcome, res.Remedy = OutcomeAlreadyInstalled, RemedyUninstall
				res.Message = fmt.Sprintf("%s already holds a Seattle install (its %s says 'seattle_installed': True), so nothing was changed.", dir, nodeman.File)
				res.Cause = fmt.Errorf("%s: %w", dir, state.ErrAlreadyInstalled)
				return res, res.Cause
			}
			if errors.Is(err, state.ErrAlreadyInstalled) {
				res.Outcome, res.Remedy = OutcomeAlreadyInstalled, RemedyUninstall
				res.Message = fmt.Sprintf("%s already holds a Seattle install (it has a vesseldict), so nothing was changed.", dir)
				res.Cause = fmt.Errorf("%s: %w", dir, err)
				return res, res.Cause
			}
			if errors.Is(err, errCompleted) {
				res.OK = true
				res.Outcome, res.Cause = OutcomeCompleted, nil
				res.LogPath = filepath.Join(dir, state.ServiceLogFile)
				res.Message = fmt.Sprintf("An earlier install into %s was interrupted after its state was complete; this run finished it. The install log is %s.", dir, res.LogPath)
				return res, nil
			}
			out, rem := writeOutcome(err)
			if out == OutcomeFailed {
				rem = RemedyChooseDir
			}
			return r.failure(PhaseVesselinfo, res, err, out, rem)
		}
		defer func() {
			if r.log != nil {
				r.log.Close()
			}
		}()
	}

	// 1. vesselinfo
	r.start(PhaseVesselinfo, "reading "+o.Vesselinfo)
	vessels, err := r.readVesselinfo()
	if err != nil {
		res.Problems = vesselinfoProblems(err)
		return r.failure(PhaseVesselinfo, res, err, OutcomeBadVesselinfo, RemedyNewInstaller)
	}
	r.done(PhaseVesselinfo, fmt.Sprintf("%d vessel%s", len(vessels), plural(len(vessels))))

	// 2. benchmark
	rep, err := r.benchmark(ctx)
	if err != nil {
		return r.failure(PhaseBenchmark, res, err, OutcomeBadMeasurements, RemedyMeasure)
	}

	// 3. check
	r.start(PhaseCheck, "checking the measurements")
	max, failures := benchmark.Check(rep, o.GOARCH)
	r.emit(Event{Kind: Measured, Phase: PhaseCheck, Benchmark: &BenchmarkReport{Report: rep, Maximums: max, Failures: failures}})
	for _, f := range failures {
		r.logf("Measurement failed for %s: %s; the default %s is used", f.Resource, f.Error, formatAmount(f.Resource, max[f.Resource]))
	}
	r.logf("Maximums used: %s", FormatValues(max))
	res.Failures = failures
	confirm := o.Confirm && !o.Yes && !o.DryRun && r.ask != nil
	if len(failures) > 0 && !confirm {
		if err := r.confirmDefaults(ctx, failures); err != nil {
			return r.failure(PhaseCheck, res, err, OutcomeDeclined, RemedyAnswerYes)
		}
	}
	r.done(PhaseCheck, fmt.Sprintf("%d measurement%s failed", len(failures), plural(len(failures))))

	// 4-6. plan
	r.start(PhasePlan, "working out the donation")
	plan, err := r.plan(max, vessels)
	if plan != nil {
		res.Plan = plan
	}
	if err != nil {
		var ie *InsufficientError
		if errors.As(err, &ie) {
			res.Insufficient = ie.Negative
			return r.failure(PhasePlan, res, err, OutcomeInsufficient, RemedyLargerPercent)
		}
		return r.failure(PhasePlan, res, err, OutcomeFailed, RemedySendLog)
	}
	r.emit(Event{Kind: Planned, Phase: PhasePlan, Plan: plan})
	r.done(PhasePlan, "")
	if confirm {
		if err := r.confirmPlan(ctx, plan, failures); err != nil {
			return r.failure(PhasePlan, res, err, OutcomeDeclined, RemedyNone)
		}
	}
	if o.DryRun {
		res.OK = true
		res.Outcome = OutcomePlanned
		res.Message = fmt.Sprintf("Dry run: this is what %s%% of this machine would give the %d vessel%s; nothing was written.", strconv.FormatFloat(o.Percent, 'f', -1, 64), len(plan.Vessels), plural(len(plan.Vessels)))
		res.Node = &NodeStatus{Summary: r.planNode(ctx)}
		return res, nil
	}

	// 7. state, with 8. the log appended to the service log in the same commit
	r.start(PhaseWrite, "writing the state into "+dir)
	in, err := r.stateInstall(plan, vessels)
	if err != nil {
		return r.failure(PhaseWrite, res, err, OutcomeFailed, RemedySendLog)
	}
	rec, err := r.nodePlan(ctx)
	if err != nil {
		return r.failure(PhaseWrite, res, err, OutcomeFailed, RemedySendLog)
	}
	if in.Files, err = r.nodeFiles(ctx, rec); err != nil {
		return r.failure(PhaseWrite, res, err, OutcomeFailed, RemedySendLog)
	}
	var names []string
	for _, v := range plan.Vessels {
		names = append(names, "resource."+v.Name, v.Name+"/")
	}
	r.logf("Writing into %s: %s, %s", dir, strings.Join(names, ", "), state.VesseldictFile)
	in.LogEnd = fmt.Sprintf("Install complete at %s: the state is in place and this log moved to %s.\n", time.Now().UTC().Format(time.RFC3339), state.ServiceLogFile)
	// The log is closed before the commit removes it (Windows cannot remove
	// an open file); its text goes to the service log with the commit.
	in.LogText = r.logText.Bytes()
	r.closeLog()
	w, err := state.Write(ctx, dir, in, func(f float64, detail string) {
		r.emit(Event{Kind: Progress, Phase: PhaseWrite, Fraction: f, Detail: detail})
	})
	if err != nil {
		r.reopenLog()
		out, rem := writeOutcome(err)
		if ctx.Err() != nil {
			err = cancelled{"while writing the state", err}
		}
		return r.failure(PhaseWrite, res, fmt.Errorf("writing the state into %s failed: %w", dir, err), out, rem)
	}
	// The log moved into the service log; later lines go to events only.
	r.done(PhaseWrite, fmt.Sprintf("%d files and directories in place", len(w.Files)))
	for _, wmsg := range w.Warnings {
		r.emit(Event{Kind: LogLine, Detail: "warning: " + wmsg})
	}
	res.LogPath = filepath.Join(dir, state.ServiceLogFile)
	// The log moved with the state's commit; this phase only reports it.
	r.start(PhaseLog, "appending the install log to "+res.LogPath)
	r.done(PhaseLog, "the install log is "+res.LogPath)
	res.OK = true
	res.Outcome = OutcomeInstalled
	res.Files = w.Files
	res.Message = fmt.Sprintf("Installed %d vessel%s into %s, donating %s%% of this machine: %s. The install log is %s.",
		len(plan.Vessels), plural(len(plan.Vessels)), dir, strconv.FormatFloat(o.Percent, 'f', -1, 64), resource.Headline(plan.Donated), res.LogPath)
	res.Node = r.finishNode(ctx, rec)
	return res, nil
}

// closeLog closes the install log file; later lines go to events only
// until reopenLog.
func (r *runner) closeLog() {
	if r.log != nil && r.logPath == filepath.Join(r.opts.Dir, state.TempLogFile) {
		r.log.Close()
		r.log = nil
	}
}

// reopenLog opens the install log again after a failed commit, so that
// the failure is in the log the donor is asked to send.
func (r *runner) reopenLog() {
	if r.log != nil || r.logPath != filepath.Join(r.opts.Dir, state.TempLogFile) {
		return // still open: the fallback log outside the directory
	}
	if f, err := state.OpenTempLog(r.opts.Dir); err == nil {
		r.log = f
	}
}

var errCompleted = errors.New("an interrupted install was completed")

// errConfigInstalled: the install directory's nodeman.cfg says installed.
var errConfigInstalled = errors.New("nodeman.cfg says installed")

// prepare finishes or undoes an interrupted install, refuses an installed
// directory, and opens the temporary log.
//
// Before it looks at anything in the directory it takes the directory's
// lock, which the run holds to its end: a second install or an uninstall
// fails at once. As root it first refuses a directory that others could
// tamper with.
func (r *runner) prepare() error {
	dir := r.opts.Dir
	if err := state.CheckDir(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the install directory: %w", err)
	}
	lock, err := state.LockDir(dir)
	switch {
	case errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission):
		// Nobody can write here, so nothing can interleave: go on, and the
		// first write fails with its own clear message and the log outside.
	case err != nil:
		return err
	}
	r.lock = lock
	rec, err := state.Recover(dir)
	if err != nil {
		return err
	}
	if rec.Completed {
		return errCompleted
	}
	if ok, err := state.Installed(dir); err != nil {
		return err
	} else if ok {
		return state.ErrAlreadyInstalled
	}
	// As the original, a node whose nodeman.cfg says installed is not
	// installed again; checked before the install log is opened, so
	// nothing is touched.
	if configInstalled(dir) && !nodePending(dir) {
		return errConfigInstalled
	}
	r.logPath = filepath.Join(dir, state.TempLogFile)
	f, err := state.OpenTempLog(dir)
	var notOurs *state.NotOursError
	if errors.As(err, &notOurs) {
		r.logPath = ""
		return err
	}
	if err != nil {
		// The directory is not writable: the install will fail, but the
		// donor still gets a log to send.
		tmp, terr := os.CreateTemp("", "installer_benchmark-*.log")
		if terr != nil {
			r.logPath = ""
			r.emit(Event{Kind: LogLine, Detail: fmt.Sprintf("cannot open the install log %s: %v", filepath.Join(dir, state.TempLogFile), err)})
		} else {
			r.logPath = tmp.Name()
			r.log = tmp
			r.logf("The install log could not be created in the install directory (%v), so it is here.", err)
		}
	} else {
		r.log = f
	}
	r.logf("=== seattle-installer install, %s ===", time.Now().UTC().Format(time.RFC3339))
	if rec.DiscardedStaging || rec.RolledBack {
		r.logf("An earlier install here was interrupted before it finished; its partial files were removed.")
	}
	r.logf("Install directory: %s", dir)
	return nil
}

func (r *runner) readVesselinfo() ([]vesselinfo.Vessel, error) {
	path := r.opts.Vesselinfo
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read vesselinfo: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("vesselinfo %s is a directory, not a file", path)
	}
	src, err := io.ReadAll(io.LimitReader(f, vesselinfo.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	vessels, err := vesselinfo.Parse(src)
	if err != nil {
		var errs vesselinfo.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				r.logf("%s:%d: %s", path, e.Line, e.Message)
			}
			if len(src) <= 64<<10 {
				r.logf("vesselinfo contents:\n%s", src)
			}
			if len(errs) == 1 {
				return nil, vesselinfoError{fmt.Sprintf("%s has an error: line %d: %s", path, errs[0].Line, errs[0].Message), errs}
			}
			return nil, vesselinfoError{fmt.Sprintf("%s has %d errors, listed in the log; the first: line %d: %s", path, len(errs), errs[0].Line, errs[0].Message), errs}
		}
		return nil, err
	}
	var desc []string
	users := 0
	for i, v := range vessels {
		desc = append(desc, fmt.Sprintf("v%d %d%%", i+1, v.Percent))
		users += len(v.Users)
	}
	r.logf("Read vesselinfo %s: %d vessel%s (%s), %d user key%s", path, len(vessels), plural(len(vessels)), strings.Join(desc, ", "), users, plural(users))
	return vessels, nil
}

// vesselinfoError says where a vesselinfo's errors are and keeps them, so
// that a front end can list them (Result.Problems).
type vesselinfoError struct {
	msg  string
	errs vesselinfo.Errors
}

func (e vesselinfoError) Error() string { return e.msg }
func (e vesselinfoError) Unwrap() error { return e.errs }

func (r *runner) benchmark(ctx context.Context) (benchmark.Report, error) {
	if r.opts.Report != nil {
		r.start(PhaseBenchmark, "using the measurements the donor reviewed")
		rep := *r.opts.Report
		r.logf("Measurements taken before the donor's review: %s", reportLine(rep))
		for _, note := range rep.Notes {
			r.logf("Benchmark note: %s", note)
		}
		r.done(PhaseBenchmark, "")
		return rep, nil
	}
	if r.opts.Measured != "" {
		r.start(PhaseBenchmark, "reading the measurements in "+r.opts.Measured)
		rep, err := benchmark.ReadReport(r.opts.Measured)
		if err != nil {
			return rep, fmt.Errorf("the measurements file: %w", err)
		}
		r.logf("Measurements read from %s (the benchmark did not run): %s", r.opts.Measured, reportLine(rep))
		r.done(PhaseBenchmark, "read "+r.opts.Measured)
		return rep, nil
	}
	r.start(PhaseBenchmark, "measuring this machine")
	rep, err := measure(ctx, benchmark.Options{Dir: r.opts.Dir, Progress: func(p benchmark.Progress) {
		r.emit(Event{Kind: Progress, Phase: PhaseBenchmark, Fraction: clamp01(p.Fraction), Detail: p.Detail})
	}})
	if err != nil {
		if ctx.Err() != nil {
			return rep, cancelled{"during the benchmark", ctx.Err()}
		}
		// The benchmark as a whole failed: as in the original, every
		// resource falls back to its default, and the donor is asked.
		r.logf("The benchmark failed: %v", err)
		rep = benchmark.Report{Resources: map[resource.Name]*float64{}}
		for _, n := range resource.All {
			rep.Resources[n] = nil
			rep.Failures = append(rep.Failures, benchmark.Failure{Resource: n, Error: "the benchmark failed: " + err.Error()})
		}
	} else {
		r.logf("Measured in %d ms: %s", rep.ElapsedMS, reportLine(rep))
	}
	for _, note := range rep.Notes {
		r.logf("Benchmark note: %s", note)
	}
	r.done(PhaseBenchmark, "")
	return rep, nil
}

// cancelled is the error of an install stopped by its context. It reads as
// a sentence for the donor ("context canceled" says nothing to them) and
// still unwraps to context.Canceled or DeadlineExceeded.
type cancelled struct {
	when string
	err  error
}

func (c cancelled) Error() string { return "the install was cancelled " + c.when }
func (c cancelled) Unwrap() error { return c.err }

func clamp01(f float64) float64 {
	switch {
	case f < 0 || f != f:
		return 0
	case f > 1:
		return 1
	}
	return f
}

// reportLine prints the raw measurements, "-" for not measured.
func reportLine(rep benchmark.Report) string {
	var b strings.Builder
	for i, n := range resource.All {
		if i > 0 {
			b.WriteString(", ")
		}
		v, ok := rep.Resources[n]
		switch {
		case !ok:
			fmt.Fprintf(&b, "%s missing", n)
		case v == nil:
			fmt.Fprintf(&b, "%s -", n)
		default:
			fmt.Fprintf(&b, "%s %s", n, strconv.FormatFloat(*v, 'f', -1, 64))
		}
	}
	return b.String()
}

// confirmDefaults asks whether to continue with defaults for the failed
// measurements: --yes answers yes, nobody to ask answers no.
func (r *runner) confirmDefaults(ctx context.Context, failures []benchmark.Failure) error {
	names := make([]string, len(failures))
	for i, f := range failures {
		names[i] = string(f.Resource)
	}
	what := fmt.Sprintf("%d measurement%s failed (%s).", len(failures), plural(len(failures)), strings.Join(names, ", "))
	if len(failures) >= len(resource.All) {
		what = "Every measurement failed."
	}
	r.prompts++
	p := Prompt{
		ID:       fmt.Sprintf("p%d", r.prompts),
		Kind:     PromptDefaults,
		Failures: failures,
		Question: what + " Continue the install with safe default values instead?",
		Choices:  []string{"continue", "cancel"},
		Default:  "cancel",
	}
	var answer, who string
	switch {
	case r.opts.Yes:
		answer, who = p.Choices[0], "--yes"
		if r.opts.YesBy != "" {
			who = r.opts.YesBy
		}
	case r.ask == nil:
		answer, who = p.Default, "nobody could be asked"
	default:
		a, err := r.ask.Ask(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return cancelled{"while asking whether to continue with defaults", ctx.Err()}
			}
			answer, who = p.Default, "asking failed: "+err.Error()
		} else {
			answer, who = a, "the donor"
		}
	}
	r.emit(Event{Kind: Answered, Phase: PhaseCheck, Prompt: &p, Detail: answer + " (" + who + ")"})
	if answer != p.Choices[0] {
		r.logf("Installation terminated after one or more failed measurements: %s (%s).", answer, who)
		return ErrDeclined
	}
	r.logf("Installation continued: default values are used for the failed measurements (%s).", who)
	return nil
}

// confirmPlan shows the donor the plan, and what failed to be measured,
// and asks whether to install it: one question, before anything is written.
func (r *runner) confirmPlan(ctx context.Context, plan *Plan, failures []benchmark.Failure) error {
	r.prompts++
	q := "Install?"
	if len(failures) > 0 {
		q = fmt.Sprintf("%d measurement%s failed; the plan uses safe default values for %s. Install?", len(failures), plural(len(failures)), map[bool]string{true: "it", false: "them"}[len(failures) == 1])
	}
	p := Prompt{ID: fmt.Sprintf("p%d", r.prompts), Kind: PromptConfirm, Question: q,
		Choices: []string{"install", "cancel"}, Default: "install", Failures: failures, Plan: plan}
	a, err := r.ask.Ask(ctx, p)
	if err != nil {
		if ctx.Err() != nil {
			return cancelled{"while asking whether to install", ctx.Err()}
		}
		a = "cancel"
	}
	r.emit(Event{Kind: Answered, Phase: PhasePlan, Prompt: &p, Detail: a + " (the donor)"})
	if a != p.Choices[0] {
		r.logf("Installation terminated: the donor did not install the plan (%s).", a)
		return ErrDeclined
	}
	if len(failures) > 0 {
		r.logf("Installation continued: default values are used for the failed measurements (the donor, shown the plan).")
	}
	r.logf("The donor confirmed the plan.")
	return nil
}

func (r *runner) plan(max resource.Values, vessels []vesselinfo.Vessel) (*Plan, error) {
	src, origin, err := assets.Load(r.opts.AssetsDir, assets.OffcutFile)
	if err != nil {
		return nil, err
	}
	offcut, err := ParseOffcut(src, origin)
	if err != nil {
		return nil, err
	}
	pct := strconv.FormatFloat(r.opts.Percent, 'f', -1, 64)
	r.logf("Percentage to donate: %s", pct)
	plan, err := MakePlan(max, r.opts.Percent, offcut, vessels)
	if plan != nil {
		r.logf("Donated: %s", FormatValues(plan.Donated))
		r.logf("Offcut (the cost of one vessel, from %s) times %d vessel%s subtracted: %s", origin, len(vessels), plural(len(vessels)), FormatValues(plan.AfterOffcut))
	}
	if err != nil {
		return plan, err
	}
	r.logf("One tenth: %s", FormatValues(plan.Tenth))
	for _, v := range plan.Vessels {
		r.logf("%s (%d%%): %s; ports %d-%d", v.Name, v.Percent, FormatValues(v.Resources), v.Ports[0], v.Ports[len(v.Ports)-1])
	}
	return plan, nil
}

func (r *runner) stateInstall(plan *Plan, vessels []vesselinfo.Vessel) (state.Install, error) {
	restrictions, origin, err := assets.Load(r.opts.AssetsDir, assets.RestrictionsFile)
	if err != nil {
		return state.Install{}, err
	}
	r.logf("Restrictions from %s", origin)
	in := state.Install{Restrictions: restrictions, PrependDir: r.opts.RepyPrependDir}
	if r.opts.RepyPrependDir != "" {
		r.logf("Security layer files copied from %s", r.opts.RepyPrependDir)
	}
	for i, vp := range plan.Vessels {
		v := vessels[i]
		sv := state.Vessel{Name: vp.Name, Owner: state.Key{E: v.Owner.E, N: v.Owner.N}, Resources: vp.Resources, Ports: vp.Ports}
		for _, u := range v.Users {
			sv.Users = append(sv.Users, state.Key{E: u.E, N: u.N})
		}
		in.Vessels = append(in.Vessels, sv)
	}
	return in, nil
}
