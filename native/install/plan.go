package install

import (
	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/wasm/plan"
)

// The plan arithmetic lives in package plan, which the donor's page runs as
// WebAssembly; these names keep the install's API as it was.

// FirstPort is the first messport/connport of the first vessel.
const FirstPort = plan.FirstPort

// MaxOffcutSize bounds resources.offcut.
const MaxOffcutSize = plan.MaxOffcutSize

// InsufficientError is the donation being too small for the cost of the
// vessels.
type InsufficientError = plan.InsufficientError

var (
	// MakePlan works out the donation; see plan.Make.
	MakePlan = plan.Make
	// Donate returns the share p of the maximums; see plan.Donate.
	Donate = plan.Donate
	// SubtractOffcut removes the cost of the vessels; see plan.SubtractOffcut.
	SubtractOffcut = plan.SubtractOffcut
	// Share returns what a vessel of percent gets; see plan.Share.
	Share = plan.Share
	// Tenth returns one tenth of what is left; see plan.Tenth.
	Tenth = plan.Tenth
	// ParseOffcut reads resources.offcut; see plan.ParseOffcut.
	ParseOffcut = plan.ParseOffcut
	// FormatValues prints values on one line for the log.
	FormatValues = plan.FormatValues
)

func formatAmount(n resource.Name, v float64) string { return plan.FormatAmount(n, v) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
