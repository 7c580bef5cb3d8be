package vesselinfo

import (
	"errors"
	"strconv"
)

// Result is the outcome of validating a file, in the shape that both the CLI
// (validate --json) and the browser (seattleValidateVesselinfo) return.
type Result struct {
	Valid   bool
	Vessels []Vessel
	Errors  Errors
}

// Validate parses src and returns the Result: the vessels when valid, every
// error otherwise.
func Validate(src []byte) Result {
	vessels, err := Parse(src)
	if err != nil {
		var es Errors
		errors.As(err, &es)
		return Result{Errors: es}
	}
	return Result{Valid: true, Vessels: vessels}
}

// AppendJSON appends the result as one compact JSON object:
//
//	{"valid":true,"vessels":[{"percent":40,"owner":"e n","users":["e n"]}],"errors":[]}
//	{"valid":false,"vessels":[],"errors":[{"line":3,"message":"..."}]}
//
// It is written by hand rather than with encoding/json so that the output is
// byte-for-byte what JavaScript's JSON.stringify gives for the same value
// (messages are ASCII by construction, see quote) and the WebAssembly module
// stays small.
func (r Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"valid":`...)
	b = strconv.AppendBool(b, r.Valid)
	b = append(b, `,"vessels":[`...)
	for i, v := range r.Vessels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"percent":`...)
		b = strconv.AppendInt(b, int64(v.Percent), 10)
		b = append(b, `,"owner":`...)
		b = appendKey(b, v.Owner)
		b = append(b, `,"users":[`...)
		for j, u := range v.Users {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendKey(b, u)
		}
		b = append(b, "]}"...)
	}
	b = append(b, `],"errors":[`...)
	for i, e := range r.Errors {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"line":`...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
		b = append(b, `,"message":`...)
		b = appendString(b, e.Message)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// JSON returns AppendJSON of a fresh buffer.
func (r Result) JSON() []byte {
	size := 64
	for _, v := range r.Vessels {
		size += 48 + len(v.Owner.E) + len(v.Owner.N)
		for _, u := range v.Users {
			size += 4 + len(u.E) + len(u.N)
		}
	}
	return r.AppendJSON(make([]byte, 0, size))
}

// Keys are digits only, so they need no escaping.
func appendKey(b []byte, k Key) []byte {
	b = append(b, '"')
	b = append(b, k.E...)
	b = append(b, ' ')
	b = append(b, k.N...)
	return append(b, '"')
}

// appendString escapes as JSON.stringify does: quote, backslash and control
// characters; everything else is copied.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
