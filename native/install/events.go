package install

// The pipeline reports what it does as Events to an Observer and asks the
// donor questions through a Prompter. It never knows who watches: the
// terminal, the donor's window over the bridge, or a test.

import (
	"context"

	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/resource"
)

// Phase names a step of the install, in the order they run.
type Phase string

const (
	PhaseVesselinfo Phase = "vesselinfo" // read and validate vesselinfo
	PhaseBenchmark  Phase = "benchmark"  // measure the machine (or read --measured)
	PhaseCheck      Phase = "check"      // check measurements, ask about failures
	PhasePlan       Phase = "plan"       // donation, offcut, tenths, per-vessel resources
	PhaseWrite      Phase = "write"      // write the state, all or nothing
	PhaseLog        Phase = "log"        // move the temporary log into the service log
)

// EventKind says what an Event reports.
type EventKind string

const (
	PhaseStarted EventKind = "started"  // Phase begins; Detail says what it does
	Progress     EventKind = "progress" // Fraction (0..1) of Phase done; Detail says what now
	PhaseDone    EventKind = "done"     // Phase finished
	PhaseFailed  EventKind = "failed"   // Phase failed; Err says why
	Measured     EventKind = "measured" // Benchmark holds the measurements and failures
	Planned      EventKind = "planned"  // Plan holds what each vessel gets
	LogLine      EventKind = "log"      // Detail is a line written to the install log
	Finished     EventKind = "finished" // Result holds the outcome; always the last event
	Answered     EventKind = "answered" // Prompt was answered; Detail is the answer and who gave it
)

// Event is one thing the pipeline reports. Only the fields of its Kind are set.
type Event struct {
	Kind     EventKind
	Phase    Phase
	Fraction float64 // Progress: of Phase, 0..1; Overall gives the whole install
	Overall  float64 // every event: fraction of the whole install done, 0..1
	Detail   string
	Err      error

	Benchmark *BenchmarkReport // Measured
	Plan      *Plan            // Planned
	Result    *Result          // Finished
	Prompt    *Prompt          // Answered
}

// BenchmarkReport is what the benchmark phase found: the raw report and the
// maximums after the checks of SPEC.md step 3.
type BenchmarkReport struct {
	Report   benchmark.Report
	Maximums resource.Values
	Failures []benchmark.Failure
}

// Observer receives the pipeline's events, in order, from one goroutine.
// It must not block for long: the install waits for it.
type Observer interface {
	Event(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Event calls f(e).
func (f ObserverFunc) Event(e Event) { f(e) }

// Prompt is a question for the donor, such as whether to continue with
// defaults after a benchmark failed.
type Prompt struct {
	ID       string     // unique within one install, e.g. "p1"
	Kind     PromptKind // what is asked, for front ends that word it themselves
	Question string     // a full sentence
	Choices  []string   // e.g. ["continue", "cancel"]; the first is the yes answer
	Default  string     // the answer when nobody can be asked, or nothing is typed
	// Failures are the measurements that failed, for PromptDefaults and
	// PromptConfirm: the safe defaults are used instead.
	Failures []benchmark.Failure `json:",omitempty"`
	// Plan is what Install would write, for PromptConfirm.
	Plan *Plan `json:",omitempty"`
}

// PromptKind says what a Prompt asks.
type PromptKind string

const (
	// PromptDefaults: measurements failed; continue with safe defaults?
	PromptDefaults PromptKind = "defaults"
	// PromptConfirm: here is the plan (and any failed measurements and the
	// defaults used instead); install it? Asked when Options.Confirm.
	PromptConfirm PromptKind = "confirm"
)

// Prompter asks the donor a question and returns one of its Choices. It
// returns ctx.Err() when the install is cancelled while waiting.
type Prompter interface {
	Ask(ctx context.Context, p Prompt) (string, error)
}
