package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// The hand-written JSON of json.go is held to encoding/json here, which
// the tests may use: only the WebAssembly module must do without it.

// hostile is what generated strings are made of: every byte JSON escapes
// one way or another, HTML's specials, the separators JSONP chokes on,
// non-ASCII of every UTF-8 length, and invalid UTF-8 (stray continuation
// bytes, truncated sequences, overlong forms, encoded surrogates).
var hostile = []string{
	`"`, `\`, "/", "<", ">", "&", "'", "\x00", "\x01", "\b", "\t", "\n", "\v", "\f", "\r", "\x1b", "\x1f", "\x7f", " ",
	"a", "Z", "0", "…", "é", "日本", "😀", "\u2028", "\u2029", "\u2027", "\u202a", "\ufeff", "\ufffd", "\U0010ffff",
	"\x80", "\xbf", "\xc3", "\xc0\xaf", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\xfe",
	`\u0000`, "u2028", "{}", "[", "]", ":", ",",
}

func hostileString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(hostile[r.IntN(len(hostile))])
	}
	return b.String()
}

// edges are numbers at encoding/json's boundaries: where it switches to
// exponents (1e-6, 1e21), the smallest and largest doubles, negative zero.
var edges = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 0.2, 1.0 / 3, 37, 100, 1e-6, math.Nextafter(1e-6, 0), -1e-6, 1e-7, 1.5e-7,
	1e20, 1e21, math.Nextafter(1e21, 0), -1e21, 1e22, 123456789012345678, 5e-324, math.SmallestNonzeroFloat64,
	math.MaxFloat64, -math.MaxFloat64, 0.07680000000000001, 510000000, 3.7e9, 1e-300, 1e300, 2.5e-8,
}

func anyNumber(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return edges[r.IntN(len(edges))]
	case 1:
		return float64(r.IntN(1e9)) / math.Pow(10, float64(r.IntN(12)))
	case 2:
		return float64(r.Int64()>>r.IntN(63)) * float64(1-2*r.IntN(2))
	}
	for {
		if f := math.Float64frombits(r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

func randomView(r *rand.Rand) View {
	str := func() string { return hostileString(r) }
	strs := func() []string {
		if r.IntN(8) == 0 {
			return nil
		}
		out := []string{}
		for range r.IntN(4) {
			out = append(out, str())
		}
		return out
	}
	v := View{OK: r.IntN(2) == 0, Percent: anyNumber(r), Headline: str(), Problem: str(), Short: strs()}
	if r.IntN(8) != 0 {
		v.Resources = []ViewResource{}
		for range r.IntN(4) {
			v.Resources = append(v.Resources, ViewResource{str(), str(), str(), str(), anyNumber(r), anyNumber(r), str(), str()})
		}
	}
	if r.IntN(8) != 0 {
		v.Vessels = []ViewVessel{}
		for range r.IntN(4) {
			vv := ViewVessel{Name: str(), Percent: int(r.Int64()) >> r.IntN(64), Owner: str(), Fingerprint: str(),
				Users: r.IntN(1000) - 10, Texts: strs()}
			if r.IntN(8) != 0 {
				vv.Values = []float64{}
				for range r.IntN(16) {
					vv.Values = append(vv.Values, anyNumber(r))
				}
			}
			if r.IntN(8) != 0 {
				vv.Ports = []int{}
				for range r.IntN(16) {
					vv.Ports = append(vv.Ports, r.IntN(1<<16))
				}
			}
			v.Vessels = append(v.Vessels, vv)
		}
	}
	return v
}

// The comparison below would prove nothing if View marshalled itself.
var _ = func() bool {
	if _, ok := any(View{}).(json.Marshaler); ok {
		panic("View implements json.Marshaler: TestViewJSONIsEncodingJSON would compare JSON() with itself")
	}
	return true
}()

// TestViewJSONIsEncodingJSON: what seattlePlan sends the page is byte for
// byte what json.Marshal writes, for the views the page really gets and
// for thousands of generated ones full of hostile strings and numbers at
// the edges of the format.
func TestViewJSONIsEncodingJSON(t *testing.T) {
	var views []View
	for _, p := range []float64{0, 0.01, 1, 10, 20, 33.3, 37, 50, 99.99, 100, 101, -5} {
		views = append(views, Preview([]byte(sample), maximums(), offcut(), p))
	}
	views = append(views, Preview([]byte("Percent 50\n"), maximums(), offcut(), 10), NewView(nil, nil), View{})
	r := rand.New(rand.NewPCG(2026, 13))
	for range 5000 {
		views = append(views, randomView(r))
	}
	escaped := 0
	for i, v := range views {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("view %d: json.Marshal: %v", i, err)
		}
		got, err := v.JSON()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("view %d (%+v):\n got %s (%v)\nwant %s", i, v, got, err, want)
		}
		if bytes.Contains(want, []byte(`\ufffd`)) && bytes.Contains(want, []byte(`\u003c`)) {
			escaped++
		}
	}
	// The generator must reach the escapes, or the test proves little.
	if escaped < 100 {
		t.Errorf("only %d views had both invalid UTF-8 and HTML escapes", escaped)
	}
}

// TestViewJSONRefusesWhatJSONCannotCarry: NaN and infinities anywhere are
// an error, as json.Marshal's; seattlePlan then says the plan could not be
// worked out.
func TestViewJSONRefusesWhatJSONCannotCarry(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for name, v := range map[string]View{
			"percent": {Percent: f},
			"maximum": {Resources: []ViewResource{{Maximum: 1}, {Maximum: f}}},
			"donated": {Resources: []ViewResource{{Donated: f}}},
			"value":   {Vessels: []ViewVessel{{Values: []float64{1, f, 2}}}},
		} {
			if _, err := json.Marshal(v); err == nil {
				t.Fatalf("%s %v: json.Marshal accepts it", name, f)
			}
			if b, err := v.JSON(); !errors.Is(err, ErrNotFinite) || b != nil {
				t.Errorf("%s %v: %q, %v; want ErrNotFinite", name, f, b, err)
			}
		}
	}
	// Preview with a NaN percentage: the page gets the error, not a view.
	if _, err := Preview([]byte(sample), maximums(), offcut(), math.NaN()).JSON(); !errors.Is(err, ErrNotFinite) {
		t.Errorf("a NaN percentage: %v", err)
	}
}

// reference is what seattlePlan did with encoding/json: Unmarshal into a
// map of resource name to number, then every resource's value.
func reference(text []byte) (resource.Values, error) {
	var m map[resource.Name]float64
	if err := json.Unmarshal(text, &m); err != nil {
		return nil, err
	}
	out := resource.Values{}
	for _, n := range resource.All {
		out[n] = m[n]
	}
	return out, nil
}

func sameValues(a, b resource.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for n, v := range a {
		if w, ok := b[n]; !ok || math.Float64bits(v) != math.Float64bits(w) {
			return false
		}
	}
	return true
}

// checkAgainstReference fails t unless DecodeValues and encoding/json
// agree on text: the same values, or both an error.
func checkAgainstReference(t *testing.T, text []byte) (ok bool) {
	t.Helper()
	want, werr := reference(text)
	got, err := DecodeValues(text)
	switch {
	case (err == nil) != (werr == nil):
		t.Errorf("%.200q: DecodeValues says %v, encoding/json %v", text, err, werr)
	case err == nil && !sameValues(got, want):
		t.Errorf("%.200q: DecodeValues reads %v, encoding/json %v", text, got, want)
	case err != nil && (got != nil || !strings.HasPrefix(err.Error(), "json: ")):
		t.Errorf("%.200q: %v with %v", text, err, got)
	}
	return err == nil
}

// pageInputs are texts seattlePlan's arguments can stringify to, and
// hostile variations; every one is checked against encoding/json.
var pageInputs = []string{
	`{}`, `null`, ` null `, `{"cpu":1}`, `{"cpu":0.5,"memory":510000000,"diskused":3700000000}`,
	`{"cpu":null}`, `{"cpu":-1}`, `{"cpu":-0}`, `{"cpu":1e400}`, `{"cpu":-1e400}`, `{"cpu":1e-400}`,
	`{"cpu":1.7976931348623157e308}`, `{"cpu":5e-324}`, `{"cpu":1E+2}`, `{"cpu":1e-2}`,
	`{"cpu":2,"cpu":3}`, `{"\u0063pu":4}`, `{"c\u0070u":4,"cpu":5}`, `{"CPU":1}`, `{"cpu ":1}`,
	`{"gpu":1}`, `{"gpu":null}`, `{"gpu":"x"}`, `{"cpu":"1"}`, `{"cpu":true}`, `{"cpu":[1]}`, `{"cpu":{}}`,
	`{"x":{"cpu":1}}`, `[]`, `[1]`, `1`, `"cpu"`, `true`, `false`, ``, ` `, `{`, `}`, `{"cpu"}`, `{"cpu":}`,
	`{"cpu":1,}`, `{,}`, `{"cpu":1 "memory":2}`, `{"cpu":1}{}`, `{"cpu":1} x`, `{"cpu":1}` + "\n",
	"\t{\r\n\"cpu\" :\n1 }\n", `{'cpu':1}`, `{cpu:1}`, `{"cpu":01}`, `{"cpu":1.}`, `{"cpu":.5}`, `{"cpu":+1}`,
	`{"cpu":-}`, `{"cpu":1e}`, `{"cpu":1e+}`, `{"cpu":0x10}`, `{"cpu":NaN}`, `{"cpu":Infinity}`, `{"cpu":nul}`,
	`{"cpu":nulll}`, "\ufeff{}", `{"a\u0000b":1}`, "{\"a\x00b\":1}", "{\"a\nb\":1}", "{\"\xff\":1}",
	`{"\ud800":1}`, `{"\ud800\udc00":1}`, `{"\udc00\ud800":1}`, `{"\ud800\u0041":1}`, `{"\ud800\":1}`,
	`{"\u12":1}`, `{"\uZZZZ":1}`, `{"\x":1}`, `{"\/":1}`, `{"\"":1}`, `{"\\":1}`, `{"a`, `{"a\`, `{"a\u00`,
	`{"cpu":1,"memory":"lots"}`, `{"memory":"lots","cpu":1}`, `{"cpu":1,"x":[1,2,{"y":null}]}`,
	`{"cpu":1, "memory":2, "looprecv":3, "loopsend":4, "events":500}`,
}

// TestDecodeValuesIsEncodingJSON: the page's maximums and offcut are read
// as json.Unmarshal read them, for what a page sends and for malformed and
// hostile text.
func TestDecodeValuesIsEncodingJSON(t *testing.T) {
	accepted := 0
	for _, text := range pageInputs {
		if checkAgainstReference(t, []byte(text)) {
			accepted++
		}
	}
	// Generated objects: resource names and others, escaped and not, with
	// numbers, nulls and the odd value of another kind, and the text then
	// cut or with a byte changed.
	r := rand.New(rand.NewPCG(2026, 14))
	names := append([]string{"gpu", "", "cpu ", "Cpu", `\u0063pu`, `c\"pu`, "\xff", `\ud83d\ude00`, `\ud800`, `\t\/`}, func() (s []string) {
		for _, n := range resource.All {
			s = append(s, string(n))
		}
		return
	}()...)
	values := []string{"null", "true", `"1"`, "[]", "{}", "-0", "0", "1e400", "00", "1.", "-"}
	for range 20000 {
		var b []byte
		b = append(b, '{')
		for i := range r.IntN(6) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, ` "`...) // the names are JSON text already
			b = append(b, names[r.IntN(len(names))]...)
			b = append(b, `":`...)
			if r.IntN(10) == 0 {
				b = append(b, values[r.IntN(len(values))]...)
			} else {
				b = strconv.AppendFloat(b, anyNumber(r), "eEfg"[r.IntN(4)], -1, 64)
			}
		}
		b = append(b, '}')
		switch r.IntN(4) {
		case 0:
			b = b[:r.IntN(len(b)+1)]
		case 1:
			b[r.IntN(len(b))] = hostile[r.IntN(len(hostile))][0]
		}
		if checkAgainstReference(t, b) {
			accepted++
		}
	}
	if accepted < 5000 || accepted > 18000 {
		t.Errorf("%d of the inputs were accepted: the generator is off balance", accepted)
	}
}

// TestDecodeValuesSaysWhatIsWrong: a hostile page gets an error that
// names the problem and where, never a panic.
func TestDecodeValuesSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "expected an object at offset 0"},
		{"an array", "[1]", "expected an object at offset 0"},
		{"a string value", `{"cpu":"1"}`, `the value of "cpu" is not a number at offset 7`},
		{"a long name", `{"` + strings.Repeat("x", 100) + `":[]}`, `the value of "` + strings.Repeat("x", 40) + `..." is not a number`},
		{"an escaped control character in a name", `{"\u001b[2J":[]}`, `the value of "\x1b[2J" is not a number`},
		{"a control character in a name", "{\"\x1b[2J\":1}", "malformed name (a control character, a bad escape or no closing quote) at offset 2"},
		{"a bad escape in a name", `{"\x":1}`, "malformed name"},
		{"a name without its end", `{"cpu`, "malformed name"},
		{"a name not quoted", `{cpu:1}`, "expected a name in quotes at offset 1"},
		{"no colon", `{"cpu" 1}`, "expected a colon after a name at offset 7"},
		{"out of range", `{"cpu":1e400}`, "the number 1e400 is out of range at offset 7"},
		{"malformed number", `{"cpu":1.e5}`, "malformed number at offset 9"},
		{"two objects", `{}{}`, "unexpected text after the value at offset 2"},
		{"no end", `{"cpu":1`, "expected a comma or the end of the object at offset 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := DecodeValues([]byte(tc.text))
			if err == nil || v != nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, %v; want an error containing %q", v, err, tc.want)
			}
		})
	}
}

// TestDecodeValuesOversized: large and deep texts are read or refused in
// one pass, as encoding/json reads or refuses them.
func TestDecodeValuesOversized(t *testing.T) {
	var many bytes.Buffer
	many.WriteString(`{"cpu":0.25`)
	for i := range 100000 {
		many.WriteString(`,"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	many.WriteString(`,"memory":7}`)
	for _, tc := range []struct {
		name string
		text []byte
	}{
		{"100,000 names", many.Bytes()},
		{"a million digits", []byte(`{"cpu":1` + strings.Repeat("0", 1e6) + `}`)},
		{"a million decimals", []byte(`{"cpu":0.` + strings.Repeat("0", 1e6) + `1}`)},
		{"a megabyte name", []byte(`{"` + strings.Repeat("\\u0041", 1<<17) + `":1,"cpu":2}`)},
		{"nested a million deep", []byte(`{"cpu":` + strings.Repeat("[", 1e6) + strings.Repeat("]", 1e6) + `}`)},
		{"a million open braces", bytes.Repeat([]byte("{"), 1e6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkAgainstReference(t, tc.text)
		})
	}
	if v, err := DecodeValues(many.Bytes()); err != nil || v[resource.CPU] != 0.25 || v[resource.Memory] != 7 {
		t.Errorf("100,000 names: %v, %v", v, err)
	}
}

// FuzzDecodeValues: for any text, DecodeValues and encoding/json agree
// (make fuzz runs it; go test runs the seeds).
func FuzzDecodeValues(f *testing.F) {
	for _, s := range pageInputs {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		checkAgainstReference(t, text)
	})
}

// FuzzViewJSON: for any strings and numbers, View.JSON is json.Marshal.
func FuzzViewJSON(f *testing.F) {
	for i, s := range hostile {
		f.Add(s, edges[i%len(edges)], 7)
	}
	f.Fuzz(func(t *testing.T, s string, x float64, n int) {
		v := View{Percent: x, Headline: s, Short: []string{s, s + s}, Resources: []ViewResource{{Name: s, Maximum: x, Donated: -x}},
			Vessels: []ViewVessel{{Name: s, Percent: n, Values: []float64{x, x / 3}, Texts: []string{s}, Ports: []int{n, -n}}}}
		want, werr := json.Marshal(v)
		got, err := v.JSON()
		if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Errorf("%q %v: got %s (%v), want %s (%v)", s, x, got, err, want, werr)
		}
	})
}
