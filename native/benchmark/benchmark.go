// Package benchmark measures the donor machine: the maximum of each resource
// that this process, in its container, may really use.
package benchmark

import (
	"context"
	"errors"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// Options say where and how to measure.
type Options struct {
	Dir      string         // the install directory: disk space and disk rates are measured there
	Progress func(Progress) // called from one goroutine as probes advance; may be nil
}

// Progress reports how far the benchmark is.
type Progress struct {
	Fraction float64       // of the whole benchmark, 0..1
	Resource resource.Name // the probe running now
	Detail   string        // what it is doing, e.g. "disk write rate"
}

// Run measures every resource. The report holds every resource of
// resource.All (nil = not measured) and the probes that failed; err is
// non-nil only when ctx is cancelled.
func Run(ctx context.Context, opts Options) (resource.Report, error) {
	return resource.Report{}, errors.New("benchmark: not written yet")
}
