// Package install is the installer's main job, steps 1 to 8 of SPEC.md: read
// vesselinfo, measure the machine, check the measurements, plan the donation
// and write the node's state through package state, all or nothing, reporting
// Events to whoever watches.
package install

import (
	"context"
	"errors"

	"github.com/seattletestbed/seattle-installer/native/resource"
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
	GOARCH         string  // for the fallback maximums; "" means this machine's
	// AssetsDir is where copies of vessel.restrictions and resources.offcut
	// beside the installer are looked for (they win over the built-in
	// ones); "" uses the built-in ones.
	AssetsDir string
}

// Plan is the donation worked out from the maximums (SPEC.md steps 4 to 7).
type Plan struct {
	Percent     float64
	Maximums    resource.Values
	Donated     resource.Values
	AfterOffcut resource.Values
	Tenth       resource.Values
	Vessels     []VesselPlan
}

// VesselPlan is what one vessel gets.
type VesselPlan struct {
	Name      string // v1, v2, ... in file order
	Percent   int
	Owner     string // "e n"
	Users     []string
	Resources resource.Values
	Ports     []int
}

// Result is the outcome of an install, successful or not.
type Result struct {
	OK      bool
	Message string   // one or two sentences for the donor: what happened, what next
	Dir     string   // the install directory
	Files   []string // what the install wrote (paths), empty on failure or dry run
	LogPath string   // the install log: the service log on success, the temporary log on failure
	Plan    *Plan    // nil when the install failed before planning
	DryRun  bool
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
