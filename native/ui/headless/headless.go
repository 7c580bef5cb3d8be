// Package headless is the installer's face on a terminal (--ui none): it
// renders the install's events as a progress bar on a terminal, as plain
// lines in a pipe or log file, as JSON lines for programs (--json), or not at
// all (-s), and asks the donor yes/no questions when there is a terminal to
// ask on.
package headless

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/seattletestbed/seattle-installer/native/install"
)

// Mode is how events are shown.
type Mode int

const (
	Bar    Mode = iota // a progress bar on a terminal
	Plain              // one line per step, for pipes and log files
	JSON               // one JSON object per event, for programs
	Silent             // nothing: the caller prints errors
)

// ChooseMode picks the mode: --json and -s win; otherwise a bar when w is a
// terminal, plain lines when it is not.
func ChooseMode(asJSON, silent bool, w io.Writer) Mode {
	switch {
	case asJSON:
		return JSON
	case silent:
		return Silent
	case IsTerminal(w):
		return Bar
	}
	return Plain
}

// IsTerminal reports whether v (a reader or writer) is a terminal.
func IsTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Observer renders install events. Plain lines and JSON go to out; the bar
// goes to the terminal term (standard error), leaving standard output to
// what the user may want to keep, such as the plan.
type Observer struct {
	mode Mode
	out  io.Writer
	term io.Writer

	mu         sync.Mutex
	bar        *progressbar.ProgressBar
	described  string // the bar's description, kept across Suspend
	suspended  bool   // a question was asked on the terminal since the last answer
	lastDetail string
}

// NewObserver returns an Observer writing lines or JSON to out and the bar
// to term.
func NewObserver(mode Mode, out, term io.Writer) *Observer {
	return &Observer{mode: mode, out: out, term: term}
}

// Event renders one event.
func (o *Observer) Event(e install.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch o.mode {
	case JSON:
		b, err := json.Marshal(jsonOf(e))
		if err != nil {
			b, _ = json.Marshal(map[string]string{"kind": "error", "detail": err.Error()})
		}
		o.out.Write(append(b, '\n'))
	case Plain:
		if line := plainLine(e, &o.lastDetail); line != "" {
			fmt.Fprintf(o.out, "[%3.0f%%] %s\n", 100*e.Overall, line)
		}
	case Bar:
		o.barEvent(e)
	}
}

// Suspend clears the bar so that a question can use the terminal; the next
// event draws it again.
func (o *Observer) Suspend() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.suspended = true
	if o.bar != nil {
		o.bar.Clear()
		o.bar = nil
		fmt.Fprint(o.term, "\r")
	}
}

func (o *Observer) barEvent(e install.Event) {
	switch e.Kind {
	case install.Finished:
		if o.bar != nil {
			o.bar.Set(int(1000 * e.Overall))
			o.bar.Clear()
			fmt.Fprint(o.term, "\r")
			o.bar = nil
		}
		return
	case install.PhaseFailed:
		if o.bar != nil {
			o.bar.Clear()
			o.bar = nil
		}
		return
	case install.Answered:
		if o.bar != nil {
			o.bar.Clear()
			o.bar = nil
		}
		// A donor who typed the answer has it on the screen already; an
		// answer from --yes (or from nobody) is shown so the donor sees it.
		if e.Prompt != nil && !o.suspended {
			fmt.Fprintf(o.term, "\r%s → %s\n", e.Prompt.Question, e.Detail)
		}
		o.suspended = false
		return
	}
	fresh := o.bar == nil
	if fresh {
		o.bar = progressbar.NewOptions(1000,
			progressbar.OptionSetWriter(o.term),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
		)
	}
	described := o.described
	if e.Kind == install.PhaseStarted || (e.Kind == install.Progress && e.Detail != "") {
		d := string(e.Phase)
		if e.Detail != "" {
			d += ": " + e.Detail
		}
		o.described = shorten(d, 50)
	}
	// Position first, then the text: a new bar (after a question) must
	// not flash 0%.
	o.bar.Set(int(1000 * e.Overall))
	if fresh || o.described != described {
		o.bar.Describe(o.described)
	}
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// plainLine is the line for an event in Plain mode, "" for none. Progress
// lines repeat only when what is being done changes.
func plainLine(e install.Event, last *string) string {
	switch e.Kind {
	case install.PhaseStarted:
		*last = ""
		if e.Detail == "" {
			return string(e.Phase)
		}
		return fmt.Sprintf("%s: %s", e.Phase, e.Detail)
	case install.Progress:
		if e.Detail == "" || e.Detail == *last {
			return ""
		}
		*last = e.Detail
		return fmt.Sprintf("%s: %s", e.Phase, e.Detail)
	case install.PhaseDone:
		if e.Detail == "" {
			return fmt.Sprintf("%s: done", e.Phase)
		}
		return fmt.Sprintf("%s: done (%s)", e.Phase, e.Detail)
	case install.PhaseFailed:
		return fmt.Sprintf("%s: FAILED", e.Phase)
	case install.Measured:
		if e.Benchmark == nil || len(e.Benchmark.Failures) == 0 {
			return ""
		}
		// Grouped by error: when the whole benchmark failed, every resource
		// has the same one.
		var order []string
		byErr := map[string][]string{}
		for _, f := range e.Benchmark.Failures {
			if _, ok := byErr[f.Error]; !ok {
				order = append(order, f.Error)
			}
			byErr[f.Error] = append(byErr[f.Error], string(f.Resource))
		}
		parts := make([]string, len(order))
		for i, msg := range order {
			parts[i] = strings.Join(byErr[msg], ", ") + ": " + msg
		}
		return "measurements that failed: " + strings.Join(parts, "; ")
	case install.Answered:
		if e.Prompt == nil {
			return ""
		}
		return fmt.Sprintf("%s %s", e.Prompt.Question, e.Detail)
	}
	return ""
}

// jsonEvent is an Event as a JSON line: errors as text, empty fields left
// out.
type jsonEvent struct {
	Kind     install.EventKind        `json:"kind"`
	Phase    install.Phase            `json:"phase,omitempty"`
	Fraction float64                  `json:"fraction,omitempty"`
	Overall  float64                  `json:"overall"`
	Detail   string                   `json:"detail,omitempty"`
	Error    string                   `json:"error,omitempty"`
	Bench    *install.BenchmarkReport `json:"benchmark,omitempty"`
	Plan     *install.Plan            `json:"plan,omitempty"`
	Result   *install.Result          `json:"result,omitempty"`
	Prompt   *install.Prompt          `json:"prompt,omitempty"`
}

func jsonOf(e install.Event) jsonEvent {
	j := jsonEvent{Kind: e.Kind, Phase: e.Phase, Fraction: e.Fraction, Overall: e.Overall, Detail: e.Detail,
		Bench: e.Benchmark, Plan: e.Plan, Result: e.Result, Prompt: e.Prompt}
	if e.Err != nil {
		j.Error = e.Err.Error()
	}
	return j
}
