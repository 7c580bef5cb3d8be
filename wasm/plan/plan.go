// Package plan works out a donation (SPEC.md steps 4 to 7): the share of
// the machine's maximums donated, less the cost of each vessel, divided in
// tenths among the vessels. It is the one plan code: the install writes
// what it computes, and the donor's page runs the same code (compiled to
// WebAssembly) to show the plan live while the donor picks a percentage.
package plan

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// This package does without fmt: it is compiled into the browser's
// WebAssembly module, where fmt (and the reflection it brings) would add a
// fifth to the download. Messages are put together with strconv instead.

// The arithmetic below is the Python original's (benchmark_resources.py and
// create_installer_state.py), operation for operation in float64, so that
// the same measurements give the same resource files to the last digit:
// the percentage is divided by 100 first, the offcut is subtracted once per
// vessel rather than multiplied, and a vessel's share is one tenth added to
// itself P/10 times.

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

// FirstPort is the first messport/connport of the first vessel.
const FirstPort = 63100

// PortsPerTenth is how many ports a vessel gets for each tenth it holds.
const PortsPerTenth = 10

// DonatedEvents is the events every install donates, whatever the
// percentage: the original found events impossible to measure reliably.
const DonatedEvents = 500

// Donate returns the share p (in (0, 100]) of the maximums: int(max*p/100)
// for whole-number resources, the fraction for cpu, always 500 events.
func Donate(max resource.Values, p float64) resource.Values {
	frac := p / 100 // resource_percent /= 100.0
	out := make(resource.Values, len(resource.All))
	for _, n := range resource.All {
		switch {
		case n == resource.CPU:
			out[n] = max[n] * frac
		case n == resource.Events:
			out[n] = DonatedEvents
		default:
			out[n] = math.Trunc(max[n] * frac)
		}
	}
	return out
}

// InsufficientError is the donation being too small for the cost of the
// vessels: after the offcut some resources would be negative.
type InsufficientError struct {
	Vessels  int
	Percent  float64
	Negative []resource.Name // in resource.All order
	After    resource.Values
}

func (e *InsufficientError) Error() string {
	parts := make([]string, len(e.Negative))
	for i, n := range e.Negative {
		parts[i] = string(n) + " would be " + FormatAmount(n, e.After[n])
	}
	return "insufficient resources: " + strconv.FormatFloat(e.Percent, 'f', -1, 64) + "% of this machine cannot pay for " +
		strconv.Itoa(e.Vessels) + " vessel" + plural(e.Vessels) + " (the cost of each is in resources.offcut): " + strings.Join(parts, ", ")
}

// SubtractOffcut removes the cost of one vessel, once per vessel, and fails
// with an *InsufficientError when any resource ends below zero.
func SubtractOffcut(donated, offcut resource.Values, vessels int, p float64) (resource.Values, error) {
	out := make(resource.Values, len(donated))
	for n, v := range donated {
		out[n] = v
	}
	for range vessels {
		for _, n := range resource.All {
			out[n] -= offcut[n]
		}
	}
	var negative []resource.Name
	for _, n := range resource.All {
		if out[n] < 0 {
			negative = append(negative, n)
		}
	}
	if len(negative) > 0 {
		return out, &InsufficientError{Vessels: vessels, Percent: p, Negative: negative, After: out}
	}
	return out, nil
}

// Tenth returns one tenth of what is left: int(x*0.1), and x*0.1 for cpu.
func Tenth(left resource.Values) resource.Values {
	out := make(resource.Values, len(left))
	for _, n := range resource.All {
		if n.Whole() {
			out[n] = math.Trunc(left[n] * 0.1)
		} else {
			out[n] = left[n] * 0.1
		}
	}
	return out
}

// Share returns what a vessel of percent (a multiple of 10) gets: one tenth
// per ten percent, added up as the original did (for cpu, repeated addition
// can differ from multiplication in the last digit).
func Share(tenth resource.Values, percent int) resource.Values {
	out := make(resource.Values, len(tenth))
	for _, n := range resource.All {
		v := tenth[n]
		for size := percent / 10; size > 1; size-- {
			v += tenth[n]
		}
		out[n] = v
	}
	return out
}

// Make works out the donation (SPEC.md steps 4 to 7) for the vessels.
// On an *InsufficientError the plan is returned too, for the log.
func Make(max resource.Values, p float64, offcut resource.Values, vessels []vesselinfo.Vessel) (*Plan, error) {
	plan := &Plan{Percent: p, Maximums: max, Donated: Donate(max, p)}
	left, err := SubtractOffcut(plan.Donated, offcut, len(vessels), p)
	plan.AfterOffcut = left
	if err != nil {
		return plan, err
	}
	plan.Tenth = Tenth(left)
	port := FirstPort
	for i, v := range vessels {
		vp := VesselPlan{
			Name:      "v" + strconv.Itoa(i+1),
			Percent:   v.Percent,
			Owner:     v.Owner.String(),
			Resources: Share(plan.Tenth, v.Percent),
		}
		for _, u := range v.Users {
			vp.Users = append(vp.Users, u.String())
		}
		for range v.Percent / 10 * PortsPerTenth {
			vp.Ports = append(vp.Ports, port)
			port++
		}
		plan.Vessels = append(plan.Vessels, vp)
	}
	return plan, nil
}

// MaxOffcutSize bounds resources.offcut; the real one is 400 bytes.
const MaxOffcutSize = 64 << 10

// ParseOffcut reads resources.offcut, the cost of one vessel: `resource NAME
// VALUE` lines; `#` starts a comment; blank lines are fine. A resource not
// listed costs nothing. Unknown names, duplicates and values that are not
// finite non-negative numbers are errors naming the line.
func ParseOffcut(src []byte, origin string) (resource.Values, error) {
	if len(src) > MaxOffcutSize {
		return nil, errors.New(origin + " is larger than " + strconv.Itoa(MaxOffcutSize>>10) + " KiB: not a resources.offcut file")
	}
	out := make(resource.Values, len(resource.All))
	for _, n := range resource.All {
		out[n] = 0
	}
	seen := map[resource.Name]int{}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 4096), MaxOffcutSize+1)
	line := 0
	for sc.Scan() {
		line++
		at := origin + ":" + strconv.Itoa(line) + ": "
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || f[0] != "resource" {
			return nil, errors.New(at + `expected "resource NAME VALUE", found ` + quote(strings.TrimSpace(text)))
		}
		n := resource.Name(f[1])
		if !n.Known() {
			return nil, errors.New(at + "unknown resource " + quote(f[1]))
		}
		if prev, dup := seen[n]; dup {
			return nil, errors.New(at + "resource " + string(n) + " is listed again (first on line " + strconv.Itoa(prev) + ")")
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, errors.New(at + "the cost of " + string(n) + ", " + quote(f[2]) + ", is not a non-negative number")
		}
		seen[n] = line
		out[n] = v
	}
	if err := sc.Err(); err != nil {
		return nil, &wrapped{origin + ":" + strconv.Itoa(line+1), err}
	}
	return out, nil
}

// FormatAmount prints a value as the resource files do.
func FormatAmount(n resource.Name, v float64) string {
	if n.Whole() && v == math.Trunc(v) && math.Abs(v) < 1e18 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// FormatValues prints values on one line in resource.All order, for the log.
func FormatValues(vs resource.Values) string {
	var b strings.Builder
	for i, n := range resource.All {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(n))
		b.WriteByte(' ')
		b.WriteString(FormatAmount(n, vs[n]))
	}
	return b.String()
}

// quote repeats a piece of a file in a message: quoted, escaped, and cut
// short, so that a hostile file cannot flood the terminal or the log.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.QuoteToASCII(s[:max]) + " (" + strconv.Itoa(len(s)) + " bytes in all)"
	}
	return strconv.QuoteToASCII(s)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// wrapped is fmt.Errorf("%s: %w", what, err) without fmt: the error says
// what failed and unwraps to the cause.
type wrapped struct {
	what string
	err  error
}

func (e *wrapped) Error() string { return e.what + ": " + e.err.Error() }
func (e *wrapped) Unwrap() error { return e.err }
