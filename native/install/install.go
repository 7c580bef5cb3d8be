// Package install is the installer's main job, steps 1 to 8 of SPEC.md: read
// vesselinfo, measure the machine, check the measurements, plan the donation
// and write the node's state through package state, all or nothing, reporting
// Events to whoever watches.
package install

import (
	"context"
	"errors"
	"runtime"

	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/nodeman"
	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/wasm/plan"
)

// Options say what to install and where.
type Options struct {
	Dir            string  // install directory; the state goes here
	Vesselinfo     string  // path of the vesselinfo file
	Percent        float64 // share of the machine to donate, in (0, 100]
	Measured       string  // path of a `benchmark --json` file; "" measures the machine
	Yes            bool    // answer yes to "continue with defaults?"
	RepyPrependDir string  // files copied into every vessel directory; "" for none
	DryRun         bool    // plan only, write nothing
	// Confirm shows the plan and asks before writing anything (a
	// PromptConfirm, which also covers failed measurements); the donor's
	// no is OutcomeDeclined. Yes skips the question.
	Confirm bool
	// Report, when set, is the measurements to use (as Measure returned
	// them for the donor's review): nothing is measured or read again, so
	// the install writes the plan the donor saw.
	Report *benchmark.Report
	// YesBy says who answered yes for Yes, for the log; "" is --yes.
	YesBy  string
	GOARCH string // for the fallback maximums; "" means this machine's
	// AssetsDir is where copies of vessel.restrictions and resources.offcut
	// beside the installer are looked for (they win over the built-in
	// ones); "" uses the built-in ones. nodeman.cfg and start_seattle.sh
	// (.bat) ship there too.
	AssetsDir string

	// The node manager's configuration (SPEC.md, "nodeman.cfg").
	NM             []nodeman.Pref // --nm-ip, --nm-iface, in the order given
	Repy           []nodeman.Pref // --repy-ip, --repy-iface, in the order given
	RepyNoOtherIPs bool           // --repy-nootherips
	RepyPrepend    []string       // --repy-prepend, split at blanks
	OnlyNetwork    bool           // write only the network configuration into nodeman.cfg
	KeyBits        int            // the node's RSA key size; 0 means seattlekey.DefaultBits

	// Starting the node.
	NoStartup    bool     // --disable-startup-script: do not start at boot
	NoStart      bool     // --no-start: do not start now
	StartCommand []string // --start-command, when the bundle ships no start_seattle.sh
}

// Plan is the donation worked out from the maximums (SPEC.md steps 4 to
// 7), by package plan: the same code the donor's page runs.
type Plan = plan.Plan

// VesselPlan is what one vessel gets.
type VesselPlan = plan.VesselPlan

// Result is the outcome of an install, successful or not. Outcome,
// Remedy and the fields after them are what a front end words; Message
// is the pipeline's own account for logs and the terminal (it may hold
// paths and system error text, and no advice: that is Remedy).
type Result struct {
	OK      bool
	Outcome Outcome
	Remedy  Remedy
	Phase   Phase    // where a failure happened
	Message string   // what happened and what was left on disk, in sentences
	Dir     string   // the install directory
	Files   []string // what the install wrote (paths), empty on failure or dry run
	LogPath string   // the install log: the service log on success, the temporary log on failure
	Plan    *Plan    // nil when the install failed before planning
	DryRun  bool
	// Left is what a failed, cancelled or declined install left on disk:
	// nothing, or its log.
	Left []string
	// Problems are a bad vesselinfo's errors, "line N: message".
	Problems []string
	// Insufficient are the resources the share cannot pay for.
	Insufficient []resource.Name
	// Failures are the measurements that failed (defaults were offered).
	Failures []benchmark.Failure
	// Cause is the error behind a failure, for logs and the terminal;
	// a window never shows its text.
	Cause error `json:"-"`
	// Node says what became of the node after its state: keys, start at
	// boot, started; nil when the install did not get that far.
	Node *NodeStatus
}

// NodeStatus is what the install did after the state, for the summary.
type NodeStatus struct {
	Config  string // path of nodeman.cfg
	Running bool
	PID     int    // of the start command, when Running
	Log     string // where the node's output goes
	NotRun  string // why the node is not running, when it is not
	Boot    string // how it starts at boot ("" when it does not)
	NoBoot  string // why it does not start at boot, and how to do it by hand
	Notes   []string
	// Summary is the above in plain sentences, for the terminal and the window.
	Summary []string
}

// Measure measures the machine as an install would (or reads
// opts.Measured), reporting benchmark progress to obs, and checks the
// measurements: what the donor reviews before installing. It writes
// nothing in opts.Dir but the benchmark's temporary file, removed after.
// Give the returned Report to Run as Options.Report.
func Measure(ctx context.Context, opts Options, obs Observer) (*BenchmarkReport, error) {
	r := newRunner(opts, obs, nil)
	if r.opts.GOARCH == "" {
		r.opts.GOARCH = runtime.GOARCH
	}
	rep, err := r.benchmark(ctx)
	if err != nil {
		return nil, err
	}
	max, failures := benchmark.Check(rep, r.opts.GOARCH)
	return &BenchmarkReport{Report: rep, Maximums: max, Failures: failures}, nil
}

// ErrDeclined is returned when the donor does not continue with defaults.
var ErrDeclined = errors.New("the donor declined to continue with default values")

// Run performs one install. The error is nil exactly when res.OK.
// obs and ask may be nil: nobody watches, and nobody can be asked (the
// answer is each prompt's Default).
func Run(ctx context.Context, opts Options, obs Observer, ask Prompter) (*Result, error) {
	r := newRunner(opts, obs, ask)
	res, err := r.run(ctx)
	r.emit(Event{Kind: Finished, Result: res, Err: err, Overall: 1})
	return res, err
}
