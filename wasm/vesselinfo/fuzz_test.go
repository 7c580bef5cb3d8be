package vesselinfo

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks what must hold for any input: Parse does not panic; a
// valid result has 1 to 10 vessels whose percentages are multiples of 10
// adding up to 100 and whose keys are digits with 0 < e < n; an invalid one
// has 1 to MaxErrors errors, in line order, each on a line of the file. The
// JSON is well formed, and a valid result written back out parses the same.
//
// make fuzz runs it for $(FUZZTIME); crashers land in testdata/fuzz/FuzzParse
// and then run with every go test.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		if len(tc.src) <= 4<<10 {
			f.Add([]byte(tc.src))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		vs, err := Parse(src)
		res := Validate(src)
		if res.Valid != (err == nil) {
			t.Fatalf("Validate says valid=%v, Parse says %v", res.Valid, err)
		}
		if !json.Valid(res.JSON()) {
			t.Fatalf("JSON is not valid: %s", res.JSON())
		}
		if err != nil {
			checkErrors(t, src, err)
			return
		}
		checkVessels(t, vs)
		// Written back out, the vessels parse to the same thing.
		again, err := Parse(format(vs))
		if err != nil {
			t.Fatalf("vessels written back out do not parse: %v\n%s", err, format(vs))
		}
		if len(again) != len(vs) || string(Result{Valid: true, Vessels: again}.JSON()) != string(res.JSON()) {
			t.Fatalf("round trip changed the vessels:\n%s\n%s", Result{Valid: true, Vessels: again}.JSON(), res.JSON())
		}
	})
}

func checkErrors(t *testing.T, src []byte, err error) {
	t.Helper()
	es, ok := err.(Errors)
	if !ok {
		t.Fatalf("error of type %T, want Errors", err)
	}
	if len(es) == 0 || len(es) > MaxErrors {
		t.Fatalf("%d errors", len(es))
	}
	n := max(1, lineCount(src))
	for i, e := range es {
		if e.Line < 1 || e.Line > n {
			t.Errorf("error on line %d of a %d-line file: %s", e.Line, n, e.Message)
		}
		if i > 0 && e.Line < es[i-1].Line {
			t.Errorf("errors out of line order: %d after %d", e.Line, es[i-1].Line)
		}
		if e.Message == "" {
			t.Errorf("empty message on line %d", e.Line)
		}
		for _, c := range []byte(e.Message) {
			if c < ' ' || c > '~' {
				t.Fatalf("message holds byte %#x, want printable ASCII: %q", c, e.Message)
			}
		}
	}
}

func checkVessels(t *testing.T, vs []Vessel) {
	t.Helper()
	if len(vs) < 1 || len(vs) > 10 {
		t.Fatalf("valid with %d vessels", len(vs))
	}
	sum := 0
	for _, v := range vs {
		if v.Percent < 10 || v.Percent > 100 || v.Percent%10 != 0 {
			t.Errorf("valid with Percent %d", v.Percent)
		}
		sum += v.Percent
		if len(v.Users) > MaxUsers {
			t.Errorf("valid with %d users", len(v.Users))
		}
		for _, k := range append([]Key{v.Owner}, v.Users...) {
			checkKey(t, k)
		}
	}
	if sum != 100 {
		t.Errorf("valid with percentages adding up to %d", sum)
	}
}

func checkKey(t *testing.T, k Key) {
	t.Helper()
	for _, s := range []string{k.E, k.N} {
		if s == "" || len(s) > MaxKeyDigits || s[0] == '0' || strings.Trim(s, "0123456789") != "" {
			t.Errorf("valid with key number %.50q", s)
		}
	}
	// e < n, checked another way than the parser does: small ones as
	// integers, the rest by length then digits.
	e, errE := strconv.ParseUint(k.E, 10, 64)
	n, errN := strconv.ParseUint(k.N, 10, 64)
	switch {
	case errE == nil && errN == nil:
		if e >= n {
			t.Errorf("valid with e %d >= n %d", e, n)
		}
	case len(k.E) > len(k.N) || len(k.E) == len(k.N) && k.E >= k.N:
		t.Errorf("valid with e >= n: %.50s %.50s", k.E, k.N)
	}
}

// format writes vessels as a vesselinfo file.
func format(vs []Vessel) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		b.WriteString("Percent " + strconv.Itoa(v.Percent) + "\nOwner " + v.Owner.String() + "\n")
		for _, u := range v.Users {
			b.WriteString("User " + u.String() + "\n")
		}
	}
	return b.Bytes()
}
