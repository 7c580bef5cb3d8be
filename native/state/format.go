package state

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// Key is a Seattle public key "e n": two decimal integers kept as their
// digits, because they are far larger than any machine integer.
type Key struct {
	E string
	N string
}

// Vessel is what the state holds for one vessel.
type Vessel struct {
	Name      string // v1, v2, ... in vesselinfo order
	Owner     Key
	Users     []Key
	Resources resource.Values // every resource of resource.All
	Ports     []int           // its messport and connport numbers
}

// ResourceFile returns the text of resource.vK for v: one `resource NAME
// VALUE` line per resource in resource.All order, then the ports, then the
// restrictions appended unchanged.
//
// The ports come as every messport line followed by every connport line.
// That is the order the original produced: its write_resource_dict (Seattle's
// nmresourcemath) wrote each resource's set of ports together, messport's set
// first because it was assigned first, and the node manager's own test
// resource files list them the same way.
func ResourceFile(v Vessel, restrictions []byte) ([]byte, error) {
	b := make([]byte, 0, 512+len(v.Ports)*46+len(restrictions))
	for _, n := range resource.All {
		x, ok := v.Resources[n]
		if !ok {
			return nil, fmt.Errorf("vessel %s: no value for resource %s", v.Name, n)
		}
		s, err := formatValue(n, x)
		if err != nil {
			return nil, fmt.Errorf("vessel %s: %w", v.Name, err)
		}
		b = append(b, "resource "...)
		b = append(b, n...)
		b = append(b, ' ')
		b = append(b, s...)
		b = append(b, '\n')
	}
	for _, kind := range [...]string{"messport", "connport"} {
		for _, p := range v.Ports {
			b = fmt.Appendf(b, "resource %s %d\n", kind, p)
		}
	}
	return append(b, restrictions...), nil
}

// formatValue prints a resource value the way the Python original did:
// whole-number resources were Python ints, cpu a Python float.
func formatValue(n resource.Name, x float64) (string, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
		return "", fmt.Errorf("resource %s has the value %v, which a resource file cannot hold", n, x)
	}
	if n.Whole() {
		if x != math.Trunc(x) {
			return "", fmt.Errorf("resource %s is %v, not a whole number", n, x)
		}
		// 'f' with precision 0 prints the exact integer, as Python's int does,
		// even beyond 2^53.
		return strconv.FormatFloat(x, 'f', 0, 64), nil
	}
	return PyFloat(x), nil
}

// PyFloat formats x exactly as Python 3's repr(float) does, because the node
// manager that reads the resource files is Python: the shortest digits that
// read back as x, in fixed notation with at least one decimal ("1.0") when
// 1e-4 <= |x| < 1e16, otherwise in exponent notation ("1e-05", "1.5e+16").
func PyFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(x, 'e', -1, 64) // e.g. "1.5e+16", "-0e+00"
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if x != 0 && (exp < -4 || exp >= 16) {
		// Go's exponent form already matches Python's: at least two
		// exponent digits and an explicit sign.
		return e
	}
	f := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(f, ".") {
		f += ".0"
	}
	return f
}

// Vesseldict returns the node manager's persisted dictionary for vessels: a
// Python literal that ast.literal_eval reads, with the keys in the order
// the original wrote them and the public keys as Python ints.
func Vesseldict(vessels []Vessel) ([]byte, error) {
	b := []byte{'{'}
	for i, v := range vessels {
		if i > 0 {
			b = append(b, ", "...)
		}
		if !safeName(v.Name) {
			return nil, fmt.Errorf("vessel name %q is not of the form v1, v2, ...", v.Name)
		}
		b = fmt.Appendf(b, "'%s': {'userkeys': [", v.Name)
		for j, u := range v.Users {
			if j > 0 {
				b = append(b, ", "...)
			}
			var err error
			if b, err = appendKey(b, u); err != nil {
				return nil, fmt.Errorf("vessel %s user key %d: %w", v.Name, j+1, err)
			}
		}
		b = append(b, "], 'ownerkey': "...)
		var err error
		if b, err = appendKey(b, v.Owner); err != nil {
			return nil, fmt.Errorf("vessel %s owner key: %w", v.Name, err)
		}
		b = fmt.Appendf(b, ", 'oldmetadata': None, 'stopfilename': '%[1]s.stop', 'logfilename': '%[1]s.log', "+
			"'statusfilename': '%[1]s.status', 'resourcefilename': 'resource.%[1]s', 'advertise': True, "+
			"'ownerinformation': '', 'status': 'Fresh'}", v.Name)
	}
	return append(b, '}'), nil
}

// appendKey writes {'e': E, 'n': N}. The digits are checked again here
// because they become Python source: anything but a plain decimal integer
// would be a syntax error or worse.
func appendKey(b []byte, k Key) ([]byte, error) {
	for _, s := range [...]string{k.E, k.N} {
		if s == "" || (s[0] == '0') {
			return nil, fmt.Errorf("%q is not a positive integer without leading zeros", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return nil, fmt.Errorf("%q is not a decimal integer", s)
			}
		}
	}
	b = append(b, "{'e': "...)
	b = append(b, k.E...)
	b = append(b, ", 'n': "...)
	b = append(b, k.N...)
	return append(b, '}'), nil
}

// safeName accepts "v" followed by a positive decimal number: the names the
// install gives, which also become file names.
func safeName(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
