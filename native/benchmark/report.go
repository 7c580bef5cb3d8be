package benchmark

// The measurements file: what Run returns and `benchmark --json` writes,
// and what the install reads back (--measured) and checks.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// Report is what a benchmark produces and what `benchmark --json` writes:
// every resource of resource.All present, nil meaning "not measured".
type Report struct {
	Resources map[resource.Name]*float64 `json:"resources"`
	Failures  []Failure                  `json:"failures"`
	Notes     []string                   `json:"notes"`
	ElapsedMS int64                      `json:"elapsed_ms"`
}

// Failure is one resource whose measurement failed or gave an unusable value.
type Failure struct {
	Resource resource.Name `json:"resource"`
	Error    string        `json:"error"`
}

// MarshalJSON writes resources in the order of resource.All so the file
// reads well and diffs cleanly; encoding/json would sort them
// alphabetically.
func (r Report) MarshalJSON() ([]byte, error) {
	b := []byte(`{"resources":{`)
	for i, n := range resource.All {
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
		Resources map[resource.Name]json.RawMessage `json:"resources"`
		Failures  []Failure                         `json:"failures"`
		Notes     []string                          `json:"notes"`
		ElapsedMS int64                             `json:"elapsed_ms"`
	}
	if err := json.Unmarshal(buf, &raw); err != nil {
		return Report{}, fmt.Errorf("%s is not a measurements file (as `benchmark --json` writes): %w", path, err)
	}
	if raw.Resources == nil {
		return Report{}, fmt.Errorf("%s has no \"resources\" object: not a measurements file", path)
	}
	rep := Report{Resources: map[resource.Name]*float64{}, Failures: raw.Failures, Notes: raw.Notes, ElapsedMS: raw.ElapsedMS}
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

// Check turns a report into the maximums the install uses (SPEC.md step 3):
// a resource not measured gets its default silently; one whose probe failed,
// or whose value is missing, not a whole number (cpu may be a fraction),
// not finite or not positive, gets its default and is listed as a failure.
func Check(rep Report, goarch string) (resource.Values, []Failure) {
	out := make(resource.Values, len(resource.All))
	var failures []Failure
	failed := map[resource.Name]string{}
	for _, f := range rep.Failures {
		failed[f.Resource] = f.Error
	}
	for _, n := range resource.All {
		out[n] = resource.Default(n, goarch)
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
