package ui

// The window's words for how an install ended. They are built from the
// install's typed outcome, never from error text: no flag, command line or
// Go error reaches the donor's window (TestWindowWordsSpeakToADonor reads
// every one of them).

import (
	"errors"
	"strconv"
	"strings"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/resource"
)

// Tone is how the window colours an ending: a success, a neutral stop (the
// donor's choice, or nothing changed) or a failure.
type Tone string

const (
	ToneOK      Tone = "ok"
	ToneNeutral Tone = "neutral"
	ToneFailed  Tone = "failed"
)

// Actions the window offers after an ending.
const (
	ActionClose      = bridge.ActionClose
	ActionTryAgain   = bridge.ActionTryAgain
	ActionOpenLog    = bridge.ActionOpenLog
	ActionOpenFolder = bridge.ActionOpenFolder
	ActionUninstall  = bridge.ActionUninstall
)

// Words is an ending as the window shows it.
type Words struct {
	Outcome install.Outcome
	Tone    Tone
	Title   string   // the heading: "Installed", "Install cancelled"
	Text    string   // what happened and what was left on disk
	Details []string // a bad vesselinfo's problems, failed measurements
	Next    string   // the one next step, "" for none
	Actions []string // buttons, most useful first
}

// WindowWords words an install's result (res may be nil when the install
// never started; err is the session's error).
func WindowWords(res *install.Result, err error) Words {
	if errors.Is(err, ErrCancelled) || (res == nil && err != nil) {
		return Words{Outcome: install.OutcomeCancelled, Tone: ToneNeutral, Title: "Nothing was installed",
			Text: "The install was cancelled before it started. Nothing was written.", Actions: []string{ActionClose}}
	}
	if res == nil {
		return Words{Outcome: install.OutcomeFailed, Tone: ToneFailed, Title: "The install did not finish", Text: "The installer stopped without saying why.", Actions: []string{ActionClose}}
	}
	w := Words{Outcome: res.Outcome, Tone: ToneFailed, Title: "The install did not finish"}
	dir := res.Dir
	nothing := "Nothing was installed."
	if res.LogPath != "" && len(res.Left) > 0 {
		nothing = "Nothing was installed; only the install log was kept, at " + res.LogPath + "."
	}
	logAction := func() []string {
		if res.LogPath != "" {
			return []string{ActionOpenLog}
		}
		return nil
	}
	switch res.Outcome {
	case install.OutcomeInstalled, install.OutcomeCompleted:
		w.Tone, w.Title = ToneOK, "Installed"
		if res.Outcome == install.OutcomeInstalled && res.Plan != nil {
			n := len(res.Plan.Vessels)
			w.Text = "This computer now hosts " + count(n, "vessel") + ", giving " + resource.Headline(res.Plan.Donated) + ". They are in " + dir + "."
		} else {
			w.Text = "An earlier install into " + dir + " had been interrupted; it is now finished."
		}
		w.Next = "You can close this window. Thank you for donating to Seattle!"
		w.Actions = []string{ActionClose, ActionOpenFolder, ActionOpenLog, ActionUninstall}
		return w
	case install.OutcomePlanned:
		w.Tone, w.Title, w.Text = ToneOK, "Plan ready", "This is what the vessels would get. Nothing was written."
		w.Actions = []string{ActionClose}
		return w
	case install.OutcomeCancelled:
		w.Tone, w.Title = ToneNeutral, "Install cancelled"
		w.Text = "You cancelled the install. " + nothing
		w.Next = "You can try again, or close this window."
		w.Actions = []string{ActionTryAgain, ActionClose}
		return w
	case install.OutcomeDeclined:
		w.Tone, w.Title = ToneNeutral, "Not installed"
		w.Text = "You chose not to install. " + nothing
		if len(res.Failures) > 0 {
			w.Text = "You chose not to install with safe default values for what could not be measured. " + nothing
		}
		w.Details = failureWords(res.Failures)
		w.Next = "You can try again, or close this window."
		w.Actions = []string{ActionTryAgain, ActionClose}
		return w
	case install.OutcomeAlreadyInstalled:
		w.Tone, w.Title = ToneNeutral, "Already installed"
		w.Text = "Seattle is already installed in " + dir + ". Nothing was changed."
		w.Next = "To install again, uninstall it first."
		w.Actions = []string{ActionUninstall, ActionOpenFolder, ActionClose}
		return w
	case install.OutcomeBusy:
		w.Tone, w.Title = ToneNeutral, "The installer is busy"
		w.Text = "Another install or uninstall is working in " + dir + " right now. Nothing was touched."
		w.Next = "Wait until it has finished, then try again."
		w.Actions = []string{ActionTryAgain, ActionClose}
		return w
	case install.OutcomeUnsafeDir:
		w.Text = "Other users of this computer could change the folder " + dir + ", so the installer, running as an administrator, will not install there. Nothing was touched."
		w.Next = "Put the installer in a folder only you can change, and run it again."
	case install.OutcomeNotOurs:
		w.Text = "The folder " + dir + " holds a file the installer did not make where it keeps its own, so it stopped. " + nothing
		w.Next = "Put the installer in a new, empty folder, and run it again."
	case install.OutcomeBadPercent:
		w.Tone = ToneNeutral
		w.Text = "The share to donate must be above 0 and at most 100 %. " + nothing
		w.Next = "Choose another share and try again."
		w.Actions = []string{ActionTryAgain, ActionClose}
		return w
	case install.OutcomeBadVesselinfo:
		w.Text = "The list of vessels that came with this installer cannot be used. " + nothing
		w.Details = res.Problems
		w.Next = "Ask whoever gave you this installer for a new one."
		w.Actions = append([]string{ActionClose}, logAction()...)
		return w
	case install.OutcomeBadMeasurements:
		w.Text = "The measurements given to the installer cannot be used. " + nothing
		w.Next = "Ask whoever gave you this installer for help, and send them the install log."
	case install.OutcomeInsufficient:
		pct := "The share you chose"
		if res.Plan != nil {
			pct = strconv.FormatFloat(res.Plan.Percent, 'f', -1, 64) + " % of this computer"
		}
		var short []string
		for _, n := range res.Insufficient {
			short = append(short, strings.ToLower(resource.Describe(n).Label))
		}
		w.Tone, w.Title = ToneNeutral, "Not enough to share"
		w.Text = pct + " is not enough to run the vessels: it falls short in " + list(short) + ". " + nothing
		w.Next = "Choose a larger share and try again."
		w.Actions = []string{ActionTryAgain, ActionClose}
		return w
	case install.OutcomeNoSpace:
		w.Text = "The disk holding " + dir + " is full, so the vessels could not be created. " + nothing
		w.Next = "Free some disk space, then try again."
		w.Actions = append([]string{ActionTryAgain, ActionClose}, logAction()...)
		return w
	case install.OutcomeReadOnly:
		w.Text = "The folder " + dir + " is on a disk that cannot be written to. " + nothing
		w.Next = "Put the installer in a folder you can write to, and run it again."
	case install.OutcomeNoPermission:
		w.Text = "You are not allowed to write into the folder " + dir + ". " + nothing
		w.Next = "Put the installer in a folder you can write to, and run it again."
	default:
		if res.Remedy == install.RemedyChooseDir {
			w.Text = "The installer could not use the folder " + dir + ". " + nothing
			w.Next = "Put the installer in a folder you can write to, and run it again."
			break
		}
		w.Text = "Something went wrong while " + phaseWords(res.Phase) + ". " + nothing
		w.Next = "Please send the install log, and the vesselinfo file that came with the installer, to whoever gave you this installer."
		if res.LogPath == "" {
			w.Next = "Try again; if it happens again, ask whoever gave you this installer for help."
		}
	}
	w.Actions = append(append([]string{ActionTryAgain}, logAction()...), ActionClose)
	return w
}

// nodeWords says what became of the node, for the window: whether it runs
// and whether it starts with the computer. The reasons and notes, which
// may name commands and flags, are in the terminal's summary and the log;
// the window's Uninstall button stands for the uninstall command.
func nodeWords(st *install.NodeStatus) []string {
	if st == nil {
		return nil
	}
	var out []string
	switch {
	case st.Running:
		out = append(out, "Seattle is running on this computer now.")
	case st.Boot != "":
		out = append(out, "Seattle is not running yet; it starts the next time this computer starts.")
	default:
		out = append(out, "Seattle is not running.")
	}
	if st.Boot != "" {
		out = append(out, "It starts again whenever this computer starts.")
	} else {
		out = append(out, "It does not start by itself when this computer starts.")
	}
	return out
}

// questionWords is a question of the install's as the window asks it: the
// resources by their labels.
func questionWords(q install.Prompt) string {
	var labels []string
	for _, f := range q.Failures {
		labels = append(labels, resource.Describe(f.Resource).Label)
	}
	switch q.Kind {
	case install.PromptDefaults:
		return "These could not be measured: " + list(labels) + ". Install with safe default values for them instead?"
	case install.PromptConfirm:
		return "Install this plan?"
	}
	return q.Question
}

// FailureWords says what could not be measured and what is used instead,
// for the review and the summary.
func failureWords(fs []benchmark.Failure) []string {
	var out []string
	for _, f := range fs {
		out = append(out, resource.Describe(f.Resource).Label+" could not be measured")
	}
	return out
}

func phaseWords(p install.Phase) string {
	switch p {
	case install.PhaseVesselinfo:
		return "reading the list of vessels"
	case install.PhaseBenchmark:
		return "measuring this computer"
	case install.PhaseCheck:
		return "checking the measurements"
	case install.PhasePlan:
		return "working out the donation"
	case install.PhaseWrite:
		return "creating the vessels"
	case install.PhaseLog:
		return "saving the install log"
	}
	return "installing"
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// list joins words as a sentence does: "a", "a and b", "a, b and c".
func list(words []string) string {
	switch len(words) {
	case 0:
		return "some resources"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
