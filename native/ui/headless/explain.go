package headless

import (
	"github.com/seattletestbed/seattle-installer/native/install"
)

// Explain words an install's result for the terminal: what happened (the
// pipeline's Message) and the remedy as the flags and commands a person
// at a terminal types.
func Explain(res *install.Result) string {
	if res == nil {
		return ""
	}
	msg := res.Message
	if next := RemedyText(res); next != "" {
		msg += " " + next
	}
	if res.LogPath != "" && !res.OK && res.Outcome.Failed() {
		msg += " If you need help, send the install log together with your vesselinfo file to whoever gave you this installer."
	}
	return msg
}

// RemedyText is the remedy as terminal advice, "" for none.
func RemedyText(res *install.Result) string {
	switch res.Remedy {
	case install.RemedyAnswerYes:
		return "Run the installer again and answer yes to continue with the safe default values, or pass --yes."
	case install.RemedyUninstall:
		return "To install again, first remove it with: seattle-installer uninstall --dir " + res.Dir
	case install.RemedyWait:
		return "Wait until it ends, then run the installer again if you still need to."
	case install.RemedyChooseDir:
		switch res.Outcome {
		case install.OutcomeReadOnly:
			return "That file system is read-only: choose another --dir."
		case install.OutcomeNoPermission:
			return "This user may not write there: choose another --dir, or run the installer as a user who may."
		}
		return "Check that the install directory is writable, or choose another --dir, then run the installer again."
	case install.RemedyFreeSpace:
		return "Free some space on that disk (or choose another --dir), then run the installer again."
	case install.RemedyLargerPercent:
		return "Donate a larger percentage (--percent) or use an installer whose vesselinfo has fewer vessels."
	case install.RemedyValidPercent:
		return "Give --percent a number such as 10."
	case install.RemedyNewInstaller:
		return "Download the installer again, or ask whoever gave it to you for a correct vesselinfo file."
	case install.RemedyMeasure:
		return "Give --measured a file that `seattle-installer benchmark --json` wrote, or leave it out to measure this machine."
	case install.RemedySendLog:
		return "Fix that and run the installer again, or choose another --dir."
	}
	return ""
}
