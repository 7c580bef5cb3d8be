// Package vesselinfo reads and validates vesselinfo files: which vessels a node
// hosts, the share of the donation each one gets, and the public keys of its
// owner and users.
//
// It is pure Go with no build tags so that the installer links it natively and
// the browser runs the very same rules compiled to WebAssembly (see ../main.go).
// Parse reports every error with its line number and a message written for the
// donor or operator who has to fix the file.
//
// Memory is bounded whatever the input: Parse never copies an invalid file,
// keeps at most MaxErrors errors and, because no valid file has more than ten
// vessels, never holds the keys of more than eleven vessels of MaxUsers users.
// A valid file costs one copy of itself (the keys are substrings of it).
package vesselinfo

import (
	"encoding/binary"
	"slices"
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
	// maxVessels is the most vessels a valid file can have: each one has at
	// least 10 percent and they add up to 100.
	maxVessels = 10
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

func (e Error) Error() string { return "vesselinfo:" + strconv.Itoa(e.Line) + ": " + e.Message }

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
// valid, or nil and an Errors value holding every error it found (at most
// MaxErrors, in line order; errors on one line keep the order they were found).
func Parse(src []byte) ([]Vessel, error) {
	p := parser{src: src}
	p.parse()
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.result(), nil
}

// span is where a key sits in the source: e is src[e0:e1], n is src[n0:n1].
// Offsets rather than strings, so that an invalid file is never copied.
type span struct{ e0, e1, n0, n1 int32 }

// vessel is a vessel while it is being read.
type vessel struct {
	line      int
	percent   int
	ownerLine int // 0 until its Owner line
	owner     span
	users     []span // kept only while the file can still be valid
	userLines int    // every User line, kept or not
}

type parser struct {
	src  []byte
	pos  int // the lexer's position in src
	line int // the current line, 1-based

	errs Errors
	full bool // MaxErrors reached: stop reading

	cur     vessel   // the vessel being read, when open
	open    bool     // a Percent line has been read
	vessels []vessel // closed vessels, kept only while the file can be valid
	count   int      // every vessel, kept or not
	sum     int      // the percentages that were numbers
	sumOK   bool     // every Percent line had a number
}

// fail records an error. Messages are built by concatenation rather than
// with fmt, which would add a sixth to the size of the WebAssembly module.
func (p *parser) fail(line int, msg string) {
	if p.full {
		return
	}
	p.errs = append(p.errs, Error{line, msg})
	p.full = len(p.errs) == MaxErrors
	// The file is invalid now: the keys read so far will never be returned.
	p.vessels = nil
	p.cur.users = nil
}

// valid reports whether no error has been found yet, that is whether keys are
// still worth keeping.
func (p *parser) valid() bool { return len(p.errs) == 0 }

func (p *parser) parse() {
	src := p.src
	if len(src) > MaxSize {
		// No size in the message: the CLI reads only MaxSize+1 bytes and the
		// browser has them all, and both must say the same.
		p.fail(1, "vesselinfo is larger than the limit of "+itoa(MaxSize>>20)+" MiB; a real one is a few kilobytes: is this the right file?")
		return
	}
	if len(src) >= 2 && (src[0] == 0xff && src[1] == 0xfe || src[0] == 0xfe && src[1] == 0xff) {
		// Windows editors offer "Unicode" (UTF-16); every line would be junk.
		p.fail(1, "vesselinfo is saved as UTF-16 text: save it as plain text (UTF-8 or ASCII) and try again")
		return
	}
	if len(src) >= 3 && src[0] == 0xef && src[1] == 0xbb && src[2] == 0xbf {
		p.pos = 3 // the UTF-8 byte-order mark some editors write
	}
	if p.pos == len(src) {
		p.fail(1, "vesselinfo is empty: it needs at least one vessel (\"Percent N\" then \"Owner e n\")")
		return
	}
	p.sumOK = true
	for p.pos < len(src) && !p.full {
		p.line++
		p.readLine()
	}
	if !p.full {
		p.finish()
	}
	p.sortErrors()
}

// A field is a run of bytes other than blanks (space, tab) and the line end.
type field struct {
	start, end int
	digits     bool // only 0-9, and not empty
}

// split reads the current line: it stores its first len(fs) fields in fs,
// returns how many fields the line has, and moves past the line's end ("\n",
// "\r\n" or the end of the file; a lone "\r" is part of a field).
//
// This is the parser's hot loop, one call per line: key digits are scanned
// once, eight at a time, and nothing allocates. (Calls are dear in Go's
// WebAssembly, which is why this is one function and not a field iterator.)
func (p *parser) split(fs []field) (n int) {
	src, i := p.src, p.pos
	for {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
			i++
		}
		if i == len(src) {
			break
		}
		if c := src[i]; c == '\n' {
			i++
			break
		} else if c == '\r' && i+1 < len(src) && src[i+1] == '\n' {
			i += 2
			break
		}
		start := i
		for i+8 <= len(src) && digits8(binary.LittleEndian.Uint64(src[i:])) {
			i += 8
		}
		for i < len(src) && src[i]-'0' <= 9 {
			i++
		}
		digits := i > start
		for i < len(src) {
			c := src[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' && i+1 < len(src) && src[i+1] == '\n' {
				break
			}
			digits = false
			i++
		}
		if n < len(fs) {
			fs[n] = field{start, i, digits}
		}
		n++
	}
	p.pos = i
	return n
}

func (p *parser) readLine() {
	line := p.line
	var fs [3]field // a label and up to two values; more is an error
	n := p.split(fs[:])
	if n == 0 {
		p.fail(line, "empty line (vesselinfo may not contain empty lines)")
		return
	}
	label := p.src[fs[0].start:fs[0].end]
	// Comparing string(bytes) with a constant does not allocate.
	switch string(label) {
	case "Percent":
		p.percentLine(line, fs[1], n-1)
	case "Owner":
		p.keyLine(line, "Owner", fs[1], fs[2], n-1)
	case "User":
		p.keyLine(line, "User", fs[1], fs[2], n-1)
	default:
		if label[0] == '#' {
			p.fail(line, "comments are not allowed: every line is Percent, Owner or User")
			return
		}
		p.fail(line, "unknown label "+quote(label)+": labels are Percent, Owner and User, and case matters")
	}
}

// percentLine reads the values of a Percent line and starts a vessel. A
// number that is merely not allowed (45, 200) still counts towards the sum,
// so that the sum message appears only when it adds information.
func (p *parser) percentLine(line int, v field, count int) {
	p.closeVessel()
	p.count++
	p.cur, p.open = vessel{line: line}, true
	pct, known := p.percent(line, v, count)
	p.cur.percent = pct
	if known {
		p.sum += pct
	} else {
		p.sumOK = false
	}
}

func (p *parser) percent(line int, v field, count int) (pct int, known bool) {
	switch {
	case count == 0:
		p.fail(line, "Percent needs a number: a multiple of 10 from 10 to 100, such as \"Percent 40\"")
		return 0, false
	case count > 1:
		p.fail(line, "Percent takes exactly one number, found "+itoa(count)+" values")
		return 0, false
	case !v.digits:
		p.fail(line, "Percent must be a whole number such as 40; "+quote(p.src[v.start:v.end])+" is not")
		return 0, false
	}
	i := v.start
	for i < v.end && p.src[i] == '0' {
		i++
	}
	if v.end-i > 3 {
		p.fail(line, "Percent "+quote(p.src[v.start:v.end])+" is out of range: use a multiple of 10 from 10 to 100")
		return 0, false
	}
	for ; i < v.end; i++ {
		pct = pct*10 + int(p.src[i]-'0')
	}
	if pct < 10 || pct > 100 || pct%10 != 0 {
		p.fail(line, "Percent "+itoa(pct)+" is not allowed: use a multiple of 10 from 10 to 100 (vessels get resources in tenths of the donation)")
	}
	return pct, true
}

// closeVessel finishes the vessel being read when the next one starts or the
// file ends.
func (p *parser) closeVessel() {
	if !p.open {
		return
	}
	v := &p.cur
	if v.ownerLine == 0 {
		p.fail(v.line, "the vessel starting here has no Owner: add \"Owner e n\" below this Percent line")
	}
	if p.valid() && len(p.vessels) < maxVessels {
		p.vessels = append(p.vessels, *v)
	}
	p.open = false
}

func (p *parser) keyLine(line int, label string, e, n field, count int) {
	k, keyOK := p.key(line, label, e, n, count)
	if !p.open {
		p.fail(line, label+" before any Percent line: start each vessel with \"Percent N\" and put its Owner and User lines below it")
		return
	}
	v := &p.cur
	if label == "Owner" {
		if v.ownerLine != 0 {
			p.fail(line, "the vessel of line "+itoa(v.line)+" already has an Owner (line "+itoa(v.ownerLine)+"); each vessel has exactly one")
			return
		}
		v.ownerLine = line
		v.owner = k
		return
	}
	v.userLines++
	if v.userLines == MaxUsers+1 {
		p.fail(line, "the vessel of line "+itoa(v.line)+" has more than "+itoa(MaxUsers)+" User keys")
		return
	}
	if keyOK && p.valid() && p.count <= maxVessels {
		v.users = append(v.users, k)
	}
}

// key checks the values of an Owner or User line.
func (p *parser) key(line int, label string, e, n field, count int) (span, bool) {
	if count != 2 {
		need := label + ` needs a public key "e n" (two numbers)`
		switch {
		case count == 0:
			p.fail(line, need+" after the label")
		case count == 1 && looksLikeFileName(p.src[e.start:e.end]):
			p.fail(line, need+"; "+quote(p.src[e.start:e.end])+" looks like a file name: paste the key itself")
		case count == 1:
			p.fail(line, need+"; found only "+quote(p.src[e.start:e.end]))
		default:
			p.fail(line, need+"; found "+itoa(count)+" values")
		}
		return span{}, false
	}
	for _, part := range [...]struct {
		name string
		f    field
	}{{"e", e}, {"n", n}} {
		s := p.src[part.f.start:part.f.end]
		switch {
		case !part.f.digits:
			p.fail(line, label+" key: "+part.name+" "+quote(s)+" is not a whole number (digits 0-9 only)")
			return span{}, false
		case len(s) > MaxKeyDigits:
			p.fail(line, label+" key: "+part.name+" has "+itoa(len(s))+" digits, more than the "+itoa(MaxKeyDigits)+" a key may have")
			return span{}, false
		case len(s) == 1 && s[0] == '0':
			p.fail(line, label+" key: "+part.name+" must be greater than 0")
			return span{}, false
		case s[0] == '0':
			p.fail(line, label+" key: "+part.name+" "+quote(s)+" starts with 0; write it without leading zeros")
			return span{}, false
		}
	}
	if !decimalLess(p.src[e.start:e.end], p.src[n.start:n.end]) {
		p.fail(line, label+" key: e must be smaller than n (the key is \"e n\", e first)")
		return span{}, false
	}
	return span{int32(e.start), int32(e.end), int32(n.start), int32(n.end)}, true
}

// finish runs the checks that need the whole file.
func (p *parser) finish() {
	p.closeVessel()
	last := p.line
	if p.count == 0 {
		p.fail(last, "no vessels: vesselinfo needs at least one \"Percent N\" line followed by \"Owner e n\"")
		return
	}
	if p.sumOK && p.sum != 100 {
		p.fail(last, "the percentages add up to "+itoa(p.sum)+"; they must add up to 100")
	}
}

// sortErrors puts the errors in line order (a missing Owner is found after
// the lines below its Percent) and, when there were too many, replaces the
// last one with a note that Parse stopped.
func (p *parser) sortErrors() {
	slices.SortStableFunc(p.errs, func(a, b Error) int { return a.Line - b.Line })
	if p.full {
		p.errs[MaxErrors-1].Message = "too many errors: stopped after " + itoa(MaxErrors-1) + "; fix these first"
	}
}

// result turns the vessels of a valid file into Vessels, with keys as
// substrings of one copy of the source.
func (p *parser) result() []Vessel {
	s := string(p.src)
	key := func(k span) Key { return Key{E: s[k.e0:k.e1], N: s[k.n0:k.n1]} }
	out := make([]Vessel, len(p.vessels))
	for i, v := range p.vessels {
		out[i] = Vessel{Percent: v.percent, Owner: key(v.owner), Line: v.line}
		if len(v.users) > 0 {
			out[i].Users = make([]Key, len(v.users))
			for j, u := range v.users {
				out[i].Users[j] = key(u)
			}
		}
	}
	return out
}

// decimalLess reports a < b for decimal numbers without leading zeros.
func decimalLess(a, b []byte) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return string(a) < string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }

func looksLikeFileName(s []byte) bool {
	for _, c := range s {
		if c == '.' || c == '/' || c == '\\' {
			return true
		}
	}
	return false
}

// quote repeats a piece of the user's input in a message: quoted, shortened
// when long, with anything that is not printable ASCII escaped, so that every
// message is plain text whatever bytes the file held.
func quote(b []byte) string {
	if len(b) > maxQuoted {
		return strconv.QuoteToASCII(string(b[:maxQuoted])) + " (" + strconv.Itoa(len(b)) + " bytes in all)"
	}
	return strconv.QuoteToASCII(string(b))
}

// digits8 reports whether the 8 bytes packed in x are all ASCII digits. A
// byte fails when its top bit is set, when adding 0x46 sets it (above '9'), or
// when subtracting 0x30 borrows (below '0'). Carries and borrows come only
// out of bytes that fail already, so the lowest failing byte always shows.
func digits8(x uint64) bool {
	const lo, hi, top = 0x3030303030303030, 0x4646464646464646, 0x8080808080808080
	return (x|(x+hi)|(x-lo))&top == 0
}
