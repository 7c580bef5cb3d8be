// Package vesselinfo reads and validates vesselinfo files: which vessels a node
// hosts, the share of the donation each one gets, and the public keys of its
// owner and users.
//
// It is pure Go with no build tags so that the installer links it natively and
// the browser runs the very same rules compiled to WebAssembly (see ../main.go).
// Parse reports every error with its line number and a message written for the
// donor or operator who has to fix the file.
package vesselinfo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Limits that keep hostile input bounded. A real vesselinfo file is a few
// kilobytes; these are far above any honest use.
const (
	// MaxSize is the largest file Parse reads; a larger one is one error.
	MaxSize = 16 << 20
	// MaxKeyDigits bounds each number of a public key. Python (3.11 and later),
	// which reads the vesseldict the install writes, refuses integer literals
	// longer than 4300 digits; that is also a key of about 14,000 bits.
	MaxKeyDigits = 4300
	// MaxUsers is the most User keys one vessel may have.
	MaxUsers = 1000
	// MaxErrors is the most errors reported; the last one says that it stopped.
	MaxErrors = 100
	// maxQuoted bounds how much of a bad value a message repeats.
	maxQuoted = 40
)

// Key is a Seattle public key "e n": two decimal integers with 0 < e < n, kept
// exactly as their digits (they are often far larger than any machine integer).
type Key struct {
	E string
	N string
}

// String returns the key as it is written in vesselinfo: "e n".
func (k Key) String() string { return k.E + " " + k.N }

// Vessel is one vessel of vesselinfo, in file order.
type Vessel struct {
	Percent int   // share of the donation, a multiple of 10 from 10 to 100
	Owner   Key   // the one owner key
	Users   []Key // user keys, possibly none
	Line    int   // the line of its Percent
}

// Error is one problem in vesselinfo, tied to a 1-based line number.
type Error struct {
	Line    int
	Message string
}

func (e Error) Error() string { return fmt.Sprintf("vesselinfo:%d: %s", e.Line, e.Message) }

// Errors is every problem Parse found, in line order.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Parse reads a vesselinfo file. It returns the vessels when the file is
// valid, or nil and an Errors value holding every error it found.
func Parse(src []byte) ([]Vessel, error) {
	p := parser{}
	p.parse(src)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.vessels, nil
}

type parser struct {
	vessels []Vessel
	errs    Errors
	full    bool // MaxErrors reached

	owners []int // line of each vessel's Owner, 0 if none yet
}

func (p *parser) errorf(line int, format string, args ...any) {
	if p.full {
		return
	}
	if len(p.errs) == MaxErrors-1 {
		p.errs = append(p.errs, Error{line, fmt.Sprintf("too many errors: stopped after %d; fix these first", MaxErrors-1)})
		p.full = true
		return
	}
	p.errs = append(p.errs, Error{line, fmt.Sprintf(format, args...)})
}

func (p *parser) parse(src []byte) {
	if len(src) > MaxSize {
		p.errorf(1, "vesselinfo is %s, larger than the limit of %d MiB; a real one is a few kilobytes: is this the right file?", sizeString(len(src)), MaxSize>>20)
		return
	}
	text := string(src)
	text = strings.TrimPrefix(text, "\ufeff")
	if text == "" {
		p.errorf(1, "vesselinfo is empty: it needs at least one vessel (\"Percent N\" then \"Owner e n\")")
		return
	}

	p.vessels = make([]Vessel, 0, 8)
	line := 0
	sumKnown := true
	sum := 0
	for len(text) > 0 && !p.full {
		line++
		var raw string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			raw, text = text[:i], text[i+1:]
		} else {
			raw, text = text, ""
		}
		raw = strings.TrimSuffix(raw, "\r")

		var fields [4]string
		n := splitBlanks(raw, fields[:])
		if n == 0 {
			p.errorf(line, "empty line (vesselinfo may not contain empty lines)")
			continue
		}
		label, values := fields[0], fields[1:min(n, len(fields))]
		switch label {
		case "Percent":
			pct, known := p.percent(line, values, n-1)
			if known {
				sum += pct
			} else {
				sumKnown = false
			}
			v := Vessel{Line: line, Percent: pct}
			p.vessels = append(p.vessels, v)
			p.owners = append(p.owners, 0)
		case "Owner", "User":
			key, ok := p.key(line, label, values, n-1)
			if len(p.vessels) == 0 {
				p.errorf(line, "%s before any Percent line: start each vessel with \"Percent N\" and put its Owner and User lines below it", label)
				continue
			}
			v := &p.vessels[len(p.vessels)-1]
			if label == "Owner" {
				if prev := p.owners[len(p.owners)-1]; prev != 0 {
					p.errorf(line, "the vessel of line %d already has an Owner (line %d); each vessel has exactly one", v.Line, prev)
					continue
				}
				p.owners[len(p.owners)-1] = line
				if ok {
					v.Owner = key
				}
				continue
			}
			if len(v.Users) == MaxUsers {
				p.errorf(line, "the vessel of line %d has more than %d User keys", v.Line, MaxUsers)
				continue
			}
			if ok {
				v.Users = append(v.Users, key)
			}
		default:
			p.errorf(line, "unknown label %s: labels are Percent, Owner and User, and case matters", quote(label))
		}
	}
	if p.full {
		return
	}
	last := line
	if len(p.vessels) == 0 {
		p.errorf(last, "no vessels: vesselinfo needs at least one \"Percent N\" line followed by \"Owner e n\"")
		return
	}
	for i, v := range p.vessels {
		if p.owners[i] == 0 {
			p.errorf(v.Line, "the vessel starting here has no Owner: add \"Owner e n\" below this Percent line")
		}
	}
	if sumKnown && sum != 100 {
		p.errorf(last, "the percentages add up to %d; they must add up to 100", sum)
	}
	// Whole-vessel errors were found after the lines below them.
	sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
}

// percent checks the values of a Percent line. It returns the number and
// whether there was one; a number that is merely not allowed (45, 200) is
// still returned so that the sum message appears only when it adds information.
func (p *parser) percent(line int, values []string, count int) (pct int, known bool) {
	if count != 1 {
		if count == 0 {
			p.errorf(line, "Percent needs a number: a multiple of 10 from 10 to 100, such as \"Percent 40\"")
		} else {
			p.errorf(line, "Percent takes exactly one number, found %d values", count)
		}
		return 0, false
	}
	s := values[0]
	if !allDigits(s) {
		p.errorf(line, "Percent must be a whole number such as 40; %s is not", quote(s))
		return 0, false
	}
	t := strings.TrimLeft(s, "0")
	if len(t) > 3 {
		p.errorf(line, "Percent %s is out of range: use a multiple of 10 from 10 to 100", quote(s))
		return 0, false
	}
	pct, _ = strconv.Atoi("0" + t)
	if pct < 10 || pct > 100 || pct%10 != 0 {
		p.errorf(line, "Percent %d is not allowed: use a multiple of 10 from 10 to 100 (vessels get resources in tenths of the donation)", pct)
	}
	return pct, true
}

// key checks the values of an Owner or User line.
func (p *parser) key(line int, label string, values []string, count int) (Key, bool) {
	need := label + " needs a public key \"e n\" (two numbers)"
	switch {
	case count == 1 && looksLikeFileName(values[0]):
		p.errorf(line, "%s; %s looks like a file name: paste the key itself", need, quote(values[0]))
		return Key{}, false
	case count == 1:
		p.errorf(line, "%s; found only %s", need, quote(values[0]))
		return Key{}, false
	case count != 2:
		p.errorf(line, "%s; found %d values", need, count)
		return Key{}, false
	}
	k := Key{E: values[0], N: values[1]}
	for _, part := range [...]struct{ name, s string }{{"e", k.E}, {"n", k.N}} {
		switch {
		case !allDigits(part.s):
			p.errorf(line, "%s key: %s %s is not a whole number (digits 0-9 only)", label, part.name, quote(part.s))
			return Key{}, false
		case len(part.s) > MaxKeyDigits:
			p.errorf(line, "%s key: %s has %d digits, more than the %d a key may have", label, part.name, len(part.s), MaxKeyDigits)
			return Key{}, false
		case part.s == "0":
			p.errorf(line, "%s key: %s must be greater than 0", label, part.name)
			return Key{}, false
		case part.s[0] == '0':
			p.errorf(line, "%s key: %s %s starts with 0; write it without leading zeros", label, part.name, quote(part.s))
			return Key{}, false
		}
	}
	if !decimalLess(k.E, k.N) {
		p.errorf(line, "%s key: e must be smaller than n (the key is \"e n\", e first)", label)
		return Key{}, false
	}
	return k, true
}

// splitBlanks splits s at runs of spaces and tabs into fields, storing at most
// len(fields) of them, and returns how many fields s has.
func splitBlanks(s string, fields []string) int {
	n := 0
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			return n
		}
		start := i
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		if n < len(fields) {
			fields[n] = s[start:i]
		}
		n++
	}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i]-'0' > 9 {
			return false
		}
	}
	return true
}

// decimalLess reports a < b for decimal strings without leading zeros.
func decimalLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func looksLikeFileName(s string) bool {
	return !allDigits(s) && strings.ContainsAny(s, "./\\")
}

// quote repeats a piece of the user's input in a message: quoted, shortened
// when long, with anything that is not printable ASCII escaped, so that every
// message is plain text whatever bytes the file held.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.QuoteToASCII(s[:maxQuoted]) + fmt.Sprintf(" (%d bytes in all)", len(s))
	}
	return strconv.QuoteToASCII(s)
}

func sizeString(n int) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
