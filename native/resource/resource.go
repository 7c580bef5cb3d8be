// Package resource names the resources a Seattle node donates, their fallback
// maximums, and the report a benchmark produces. It is the vocabulary shared
// by the benchmark (which measures), the install (which divides) and the UI
// (which shows), so none of them needs to know the others.
package resource

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// Name is a resource as the node manager spells it in resource files.
type Name string

// The resources of SPEC.md, in the order resource files list them.
const (
	CPU         Name = "cpu"
	Memory      Name = "memory"
	DiskUsed    Name = "diskused"
	Events      Name = "events"
	FilesOpened Name = "filesopened"
	InSockets   Name = "insockets"
	OutSockets  Name = "outsockets"
	Random      Name = "random"
	FileWrite   Name = "filewrite"
	FileRead    Name = "fileread"
	NetRecv     Name = "netrecv"
	NetSend     Name = "netsend"
	LogRate     Name = "lograte"
	LoopSend    Name = "loopsend"
	LoopRecv    Name = "looprecv"
)

// All lists every resource in a stable order (the order of SPEC.md's table).
var All = []Name{
	CPU, Memory, DiskUsed, Events, FilesOpened, InSockets, OutSockets,
	Random, FileWrite, FileRead, NetRecv, NetSend, LogRate, LoopSend, LoopRecv,
}

// Whole reports whether the resource is a whole number; only cpu is a
// fraction (a share of processors).
func (n Name) Whole() bool { return n != CPU }

// Known reports whether n is one of All.
func (n Name) Known() bool {
	_, ok := defaults[n]
	return ok
}

var defaults = map[Name]float64{
	CPU:         1,
	Memory:      510000000,
	DiskUsed:    3700000000,
	Events:      500,
	FilesOpened: 250,
	InSockets:   250,
	OutSockets:  250,
	Random:      200000,
	FileWrite:   1200000,
	FileRead:    1200000,
	NetRecv:     500000,
	NetSend:     500000,
	LogRate:     1500000,
	LoopSend:    50000000,
	LoopRecv:    50000000,
}

// Default is the fallback maximum of a resource on a machine of the given
// GOARCH (and GOARM, "5" to "7", for arm): the value used when a resource is
// not measured or its measurement failed. 32-bit ARM machines were slow, so
// the original lowered random (÷ 4) and the file rates (÷ 20) there.
func Default(n Name, goarch string) float64 {
	v := defaults[n]
	if goarch == "arm" {
		switch n {
		case Random:
			v /= 4
		case FileWrite, FileRead:
			v /= 20
		}
	}
	return v
}

// Values holds one number per resource.
type Values map[Name]float64

// Report is what a benchmark produces and what `benchmark --json` writes:
// every resource of All present, nil meaning "not measured".
type Report struct {
	Resources map[Name]*float64 `json:"resources"`
	Failures  []Failure         `json:"failures"`
	Notes     []string          `json:"notes"`
	ElapsedMS int64             `json:"elapsed_ms"`
}

// Failure is one resource whose measurement failed or gave an unusable value.
type Failure struct {
	Resource Name   `json:"resource"`
	Error    string `json:"error"`
}

// MarshalJSON writes resources in the order of All so the file reads well and
// diffs cleanly; encoding/json would sort them alphabetically.
func (r Report) MarshalJSON() ([]byte, error) {
	b := []byte(`{"resources":{`)
	for i, n := range All {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%q:", string(n))
		v := r.Resources[n]
		if v == nil {
			b = append(b, "null"...)
			continue
		}
		num, err := json.Marshal(*v)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", n, err)
		}
		b = append(b, num...)
	}
	type rest struct {
		Failures  []Failure `json:"failures"`
		Notes     []string  `json:"notes"`
		ElapsedMS int64     `json:"elapsed_ms"`
	}
	tail, err := json.Marshal(rest{nonNil(r.Failures), nonNil(r.Notes), r.ElapsedMS})
	if err != nil {
		return nil, err
	}
	b = append(b, "},"...)
	return append(b, tail[1:]...), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MaxReportSize bounds a measurements file read by ReadReport.
const MaxReportSize = 1 << 20

// ReadReport reads a file that `benchmark --json` wrote. Unknown resource
// names are an error (a typo must not silently become a default); values are
// not checked here: Check does that, exactly as for fresh measurements.
func ReadReport(path string) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, err
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, MaxReportSize+1))
	if err != nil {
		return Report{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(buf) > MaxReportSize {
		return Report{}, fmt.Errorf("%s is larger than %d KiB: not a measurements file", path, MaxReportSize>>10)
	}
	var raw struct {
		Resources map[Name]json.RawMessage `json:"resources"`
		Failures  []Failure                `json:"failures"`
		Notes     []string                 `json:"notes"`
		ElapsedMS int64                    `json:"elapsed_ms"`
	}
	if err := json.Unmarshal(buf, &raw); err != nil {
		return Report{}, fmt.Errorf("%s is not a measurements file (as `benchmark --json` writes): %w", path, err)
	}
	if raw.Resources == nil {
		return Report{}, fmt.Errorf("%s has no \"resources\" object: not a measurements file", path)
	}
	rep := Report{Resources: map[Name]*float64{}, Failures: raw.Failures, Notes: raw.Notes, ElapsedMS: raw.ElapsedMS}
	var unknown []string
	for name, msg := range raw.Resources {
		if !name.Known() {
			unknown = append(unknown, string(name))
			continue
		}
		var v *float64
		if err := json.Unmarshal(msg, &v); err != nil {
			// Kept as a failure for Check to report, like a probe that
			// returned garbage, rather than refusing the whole file.
			rep.Failures = append(rep.Failures, Failure{name, fmt.Sprintf("value %s is not a number", truncate(string(msg), 40))})
			continue
		}
		rep.Resources[name] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Report{}, fmt.Errorf("%s names unknown resources %q", path, unknown)
	}
	return rep, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Check turns a report into the maximums the install uses (SPEC.md step 3):
// a resource not measured gets its default silently; one whose probe failed,
// or whose value is missing, not a whole number (cpu may be a fraction),
// not finite or not positive, gets its default and is listed as a failure.
func Check(rep Report, goarch string) (Values, []Failure) {
	out := make(Values, len(All))
	var failures []Failure
	failed := map[Name]string{}
	for _, f := range rep.Failures {
		failed[f.Resource] = f.Error
	}
	for _, n := range All {
		out[n] = Default(n, goarch)
		if msg, ok := failed[n]; ok {
			failures = append(failures, Failure{n, msg})
			continue
		}
		v, present := rep.Resources[n]
		switch {
		case !present:
			failures = append(failures, Failure{n, "missing from the measurements"})
		case v == nil:
			// not measured: the default, silently
		case math.IsNaN(*v) || math.IsInf(*v, 0):
			failures = append(failures, Failure{n, fmt.Sprintf("measured %v, not a number", *v)})
		case *v <= 0:
			failures = append(failures, Failure{n, fmt.Sprintf("measured %v, not positive", *v)})
		case n.Whole() && *v != math.Trunc(*v):
			failures = append(failures, Failure{n, fmt.Sprintf("measured %v, not a whole number", *v)})
		default:
			out[n] = *v
		}
	}
	return out, failures
}
