package install

// How an install ended, typed: every front end words it itself. The
// terminal speaks in flags and commands ("pass --yes", "seattle-installer
// uninstall --dir D"); the donor's window in buttons and sentences. The
// pipeline says only what happened (Outcome), what was left on disk
// (Result.Left) and what would help (Remedy).

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"syscall"

	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// Outcome is how an install ended.
type Outcome string

const (
	OutcomeInstalled        Outcome = "installed"         // the state is in place
	OutcomePlanned          Outcome = "planned"           // a dry run: the plan, nothing written
	OutcomeCompleted        Outcome = "completed"         // an interrupted install was finished
	OutcomeCancelled        Outcome = "cancelled"         // the donor (or a signal) stopped it
	OutcomeDeclined         Outcome = "declined"          // the donor would not use defaults for failed measurements, or said no to the plan
	OutcomeAlreadyInstalled Outcome = "already-installed" // the directory holds an install: nothing changed
	OutcomeBusy             Outcome = "busy"              // another install or uninstall holds the directory
	OutcomeUnsafeDir        Outcome = "unsafe-dir"        // the directory could be changed by others (as root)
	OutcomeNotOurs          Outcome = "not-ours"          // a file the installer uses is not one it wrote
	OutcomeBadPercent       Outcome = "bad-percent"       // the percentage is not in (0, 100]
	OutcomeBadVesselinfo    Outcome = "bad-vesselinfo"    // vesselinfo missing, unreadable or invalid
	OutcomeBadMeasurements  Outcome = "bad-measurements"  // the measurements file is unusable
	OutcomeInsufficient     Outcome = "insufficient"      // the share cannot pay for the vessels
	OutcomeNoSpace          Outcome = "no-space"          // the disk is full
	OutcomeReadOnly         Outcome = "read-only"         // the directory's file system is read-only
	OutcomeNoPermission     Outcome = "no-permission"     // this user may not write there
	OutcomeFailed           Outcome = "failed"            // anything else; the log says what
)

// Outcomes lists every Outcome, for front ends to test their words.
var Outcomes = []Outcome{
	OutcomeInstalled, OutcomePlanned, OutcomeCompleted, OutcomeCancelled, OutcomeDeclined,
	OutcomeAlreadyInstalled, OutcomeBusy, OutcomeUnsafeDir, OutcomeNotOurs, OutcomeBadPercent,
	OutcomeBadVesselinfo, OutcomeBadMeasurements, OutcomeInsufficient, OutcomeNoSpace,
	OutcomeReadOnly, OutcomeNoPermission, OutcomeFailed,
}

// Remedy is the one next step that would help.
type Remedy string

const (
	RemedyNone          Remedy = ""
	RemedyAnswerYes     Remedy = "answer-yes"     // install again and accept the safe defaults
	RemedyUninstall     Remedy = "uninstall"      // remove the install in Result.Dir first
	RemedyWait          Remedy = "wait"           // wait for the other install or uninstall to end
	RemedyChooseDir     Remedy = "choose-dir"     // install somewhere else
	RemedyFreeSpace     Remedy = "free-space"     // free some disk space, then try again
	RemedyLargerPercent Remedy = "larger-percent" // donate a larger share, or use fewer vessels
	RemedyValidPercent  Remedy = "valid-percent"  // give a share above 0 and at most 100
	RemedyNewInstaller  Remedy = "new-installer"  // get a correct installer (its vesselinfo is bad)
	RemedyMeasure       Remedy = "measure"        // give a good measurements file, or measure this machine
	RemedySendLog       Remedy = "send-log"       // send the log to whoever gave the installer
	RemedyTryAgain      Remedy = "try-again"      // nothing is wrong: try again when ready
)

// Failed reports whether the outcome is a failure (not a success, a
// choice of the donor's, or a refusal that changed nothing).
func (o Outcome) Failed() bool {
	switch o {
	case OutcomeInstalled, OutcomePlanned, OutcomeCompleted, OutcomeCancelled, OutcomeDeclined:
		return false
	}
	return true
}

// writeOutcome classifies a failed write of the state.
func writeOutcome(err error) (Outcome, Remedy) {
	switch {
	case errors.Is(err, state.ErrAlreadyInstalled):
		return OutcomeAlreadyInstalled, RemedyUninstall
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCancelled, RemedyTryAgain
	case errors.Is(err, syscall.ENOSPC):
		return OutcomeNoSpace, RemedyFreeSpace
	case errors.Is(err, syscall.EROFS):
		return OutcomeReadOnly, RemedyChooseDir
	case errors.Is(err, fs.ErrPermission):
		return OutcomeNoPermission, RemedyChooseDir
	}
	var notOurs *state.NotOursError
	var unsafe *state.UnsafeDirError
	var locked *state.LockedError
	switch {
	case errors.As(err, &notOurs):
		return OutcomeNotOurs, RemedyChooseDir
	case errors.As(err, &unsafe):
		return OutcomeUnsafeDir, RemedyChooseDir
	case errors.As(err, &locked):
		return OutcomeBusy, RemedyWait
	}
	return OutcomeFailed, RemedySendLog
}

// vesselinfoProblems lists a vesselinfo's errors as "line N: message".
func vesselinfoProblems(err error) []string {
	var errs vesselinfo.Errors
	if !errors.As(err, &errs) {
		return nil
	}
	out := make([]string, 0, len(errs))
	for i, e := range errs {
		if i == 10 {
			break
		}
		out = append(out, "line "+strconv.Itoa(e.Line)+": "+e.Message)
	}
	return out
}
