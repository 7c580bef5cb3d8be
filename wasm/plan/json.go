package plan

// The JSON seattlePlan exchanges with the page, written and read by hand:
// encoding/json and fmt, with the reflection and tables they bring, made
// the WebAssembly module 3.5 MB instead of 2.3 MB. What is here does only
// the two shapes that cross: a View out, an object of resource name to
// number in. Tests hold both to encoding/json
// on thousands of generated values, hostile strings included.
//
// The small helpers are go:noinline: inlined, every append carries its own
// copy of the slice-growing code, and View.AppendJSON alone came to 20 KB
// of WebAssembly instead of 6.

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// ErrNotFinite is what View.JSON returns for a NaN or infinite number,
// which JSON cannot carry (encoding/json refuses them too).
var ErrNotFinite = errors.New("json: a number is NaN or infinite")

// JSON returns the view as encoding/json's Marshal writes it: the fields
// of the json tags in order, HTML-safe escapes, nil slices as null.
func (v View) JSON() ([]byte, error) {
	return v.AppendJSON(make([]byte, 0, 2048))
}

// AppendJSON appends JSON to b.
func (v View) AppendJSON(b []byte) ([]byte, error) {
	w := jsonWriter{b: b}
	w.raw(`{"ok":`)
	w.bool(v.OK)
	w.raw(`,"percent":`)
	w.float(v.Percent)
	w.raw(`,"headline":`)
	w.string(v.Headline)
	w.raw(`,"problem":`)
	w.string(v.Problem)
	w.raw(`,"short":`)
	w.strings(v.Short)
	w.raw(`,"resources":`)
	if v.Resources == nil {
		w.raw("null")
	} else {
		w.raw("[")
		for i, r := range v.Resources {
			if i > 0 {
				w.raw(",")
			}
			w.raw(`{"name":`)
			w.string(r.Name)
			w.raw(`,"label":`)
			w.string(r.Label)
			w.raw(`,"unit":`)
			w.string(r.Unit)
			w.raw(`,"explain":`)
			w.string(r.Explain)
			w.raw(`,"maximum":`)
			w.float(r.Maximum)
			w.raw(`,"donated":`)
			w.float(r.Donated)
			w.raw(`,"maximumText":`)
			w.string(r.MaximumText)
			w.raw(`,"donatedText":`)
			w.string(r.DonatedText)
			w.raw("}")
		}
		w.raw("]")
	}
	w.raw(`,"vessels":`)
	if v.Vessels == nil {
		w.raw("null")
	} else {
		w.raw("[")
		for i, vv := range v.Vessels {
			if i > 0 {
				w.raw(",")
			}
			w.raw(`{"name":`)
			w.string(vv.Name)
			w.raw(`,"percent":`)
			w.int(vv.Percent)
			w.raw(`,"owner":`)
			w.string(vv.Owner)
			w.raw(`,"fingerprint":`)
			w.string(vv.Fingerprint)
			w.raw(`,"users":`)
			w.int(vv.Users)
			w.raw(`,"values":`)
			if vv.Values == nil {
				w.raw("null")
			} else {
				w.raw("[")
				for j, f := range vv.Values {
					if j > 0 {
						w.raw(",")
					}
					w.float(f)
				}
				w.raw("]")
			}
			w.raw(`,"texts":`)
			w.strings(vv.Texts)
			w.raw(`,"ports":`)
			if vv.Ports == nil {
				w.raw("null")
			} else {
				w.raw("[")
				for j, p := range vv.Ports {
					if j > 0 {
						w.raw(",")
					}
					w.int(p)
				}
				w.raw("]")
			}
			w.raw("}")
		}
		w.raw("]")
	}
	w.raw("}")
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

type jsonWriter struct {
	b   []byte
	err error
}

//go:noinline
func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

//go:noinline
func (w *jsonWriter) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

//go:noinline
func (w *jsonWriter) int(v int) { w.b = strconv.AppendInt(w.b, int64(v), 10) }

// float writes f as encoding/json does (as ECMAScript's Number to String
// would): plain decimals from 1e-6 up to 1e21, exponents without padding
// outside.
func (w *jsonWriter) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.err = ErrNotFinite
		w.b = append(w.b, "null"...) // never returned; keeps the rest writable
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	w.b = strconv.AppendFloat(w.b, f, format, -1, 64)
	if format == 'e' {
		// e-07 becomes e-7.
		n := len(w.b)
		if n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
			w.b[n-2] = w.b[n-1]
			w.b = w.b[:n-1]
		}
	}
}

func (w *jsonWriter) strings(ss []string) {
	if ss == nil {
		w.raw("null")
		return
	}
	w.raw("[")
	for i, s := range ss {
		if i > 0 {
			w.raw(",")
		}
		w.string(s)
	}
	w.raw("]")
}

// string writes s quoted with encoding/json's escapes: quote, backslash,
// control characters, and (HTML-safe) <, > and &; invalid UTF-8 becomes
// \ufffd; U+2028 and U+2029 are escaped for JSONP's sake.
func (w *jsonWriter) string(s string) {
	const hex = "0123456789abcdef"
	b := append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	w.b = append(b, '"')
}

// DecodeValues reads the page's maximums or offcut, JSON.stringify of an
// object of resource name to number, exactly as json.Unmarshal into a
// map[resource.Name]float64 would, and returns the value of every
// resource (0 for one not named). Names that are not resources are
// skipped, but their values must be numbers or null too; null counts as
// 0, and so does the whole text being null. Anything else (malformed
// JSON, a string, an array or an object as a value, a number out of
// float64's range) is an error saying what and where.
func DecodeValues(text []byte) (resource.Values, error) {
	r := jsonReader{s: text}
	got := map[resource.Name]float64{}
	r.space()
	if r.literal("null") {
		// json.Unmarshal leaves the map alone: every resource is 0.
	} else if !r.consume('{') {
		return nil, r.fail("expected an object")
	} else {
		r.space()
		if !r.consume('}') {
			for {
				r.space()
				if !r.more() || r.s[r.i] != '"' {
					return nil, r.fail("expected a name in quotes")
				}
				key, ok := r.string()
				if !ok {
					return nil, r.fail("malformed name (a control character, a bad escape or no closing quote)")
				}
				r.space()
				if !r.consume(':') {
					return nil, r.fail("expected a colon after a name")
				}
				r.space()
				var v float64
				switch {
				case r.literal("null"):
					v = 0
				case r.more() && (r.s[r.i] == '-' || '0' <= r.s[r.i] && r.s[r.i] <= '9'):
					num, err := r.number()
					if err != nil {
						return nil, err
					}
					v = num
				default:
					return nil, r.fail("the value of " + strconv.QuoteToASCII(short(key)) + " is not a number")
				}
				got[resource.Name(key)] = v
				r.space()
				if r.consume(',') {
					continue
				}
				if r.consume('}') {
					break
				}
				return nil, r.fail("expected a comma or the end of the object")
			}
		}
	}
	r.space()
	if r.more() {
		return nil, r.fail("unexpected text after the value")
	}
	out := make(resource.Values, len(resource.All))
	for _, n := range resource.All {
		out[n] = got[n]
	}
	return out, nil
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

type jsonReader struct {
	s []byte
	i int
}

func (r *jsonReader) more() bool { return r.i < len(r.s) }

//go:noinline
func (r *jsonReader) fail(what string) error {
	return errors.New("json: " + what + " at offset " + strconv.Itoa(r.i))
}

//go:noinline
func (r *jsonReader) space() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

//go:noinline
func (r *jsonReader) consume(c byte) bool {
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

//go:noinline
func (r *jsonReader) literal(lit string) bool {
	if len(r.s)-r.i >= len(lit) && string(r.s[r.i:r.i+len(lit)]) == lit {
		r.i += len(lit)
		return true
	}
	return false
}

// number reads a number of JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *jsonReader) number() (float64, error) {
	start := r.i
	r.consume('-')
	digits := func() int {
		n := 0
		for r.i < len(r.s) && '0' <= r.s[r.i] && r.s[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	switch {
	case r.consume('0'):
	case digits() == 0:
		return 0, r.fail("malformed number")
	}
	if r.consume('.') && digits() == 0 {
		return 0, r.fail("malformed number")
	}
	if r.consume('e') || r.consume('E') {
		if !r.consume('+') {
			r.consume('-')
		}
		if digits() == 0 {
			return 0, r.fail("malformed number")
		}
	}
	lit := string(r.s[start:r.i])
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		r.i = start
		return 0, r.fail("the number " + short(lit) + " is out of range")
	}
	return f, nil
}

// string reads a quoted string and returns it unescaped: \uXXXX escapes
// decoded, surrogate pairs joined, a lone surrogate as U+FFFD (as
// encoding/json does). Control characters must be escaped.
func (r *jsonReader) string() (string, bool) {
	if !r.consume('"') {
		return "", false
	}
	var out []byte
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			r.i++
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			r.i++
			continue
		}
		r.i++ // the backslash
		if r.i >= len(r.s) {
			return "", false
		}
		e := r.s[r.i]
		r.i++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			c1, ok := r.hex4()
			if !ok {
				return "", false
			}
			if 0xd800 <= c1 && c1 < 0xdc00 && r.literal(`\u`) {
				back := r.i - 2
				c2, ok := r.hex4()
				if !ok {
					return "", false
				}
				if 0xdc00 <= c2 && c2 < 0xe000 {
					out = utf8.AppendRune(out, (c1-0xd800)<<10|(c2-0xdc00)+0x10000)
					continue
				}
				r.i = back // not a pair: the second escape stands alone
			}
			if 0xd800 <= c1 && c1 < 0xe000 {
				c1 = utf8.RuneError
			}
			out = utf8.AppendRune(out, c1)
		default:
			return "", false
		}
	}
	return "", false
}

func (r *jsonReader) hex4() (rune, bool) {
	if len(r.s)-r.i < 4 {
		return 0, false
	}
	var v rune
	for _, c := range r.s[r.i : r.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	r.i += 4
	return v, true
}
