//go:build !js

package difftest

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/wasm/plan"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// planArg is how plan.js saw one argument: what the module sees of it.
type planArg struct {
	Type   string  `json:"type"` // typeof, or "null"
	Text   *string `json:"text"` // JSON.stringify's text; nil when it gave undefined
	Throws string  `json:"throws"`
	Str    *string `json:"str"`
	Num    string  `json:"num"` // String(number): "NaN", "Infinity", "1e-7"
}

type planLine struct {
	Args   []planArg       `json:"args"`
	Result json.RawMessage `json:"result"`
	Threw  string          `json:"threw"`
}

const badPlan = `{"ok":false,"problem":"The plan could not be worked out.","resources":[],"vessels":[],"short":[]}`

// referencePlan is what seattlePlan returned when it used encoding/json:
// the arguments checked, the maximums and offcut read with json.Unmarshal
// from JSON.stringify's text, the View written with json.Marshal; any
// failure (a panic included) the same "could not be worked out" view.
func referencePlan(t *testing.T, args []planArg) string {
	if len(args) != 4 || args[0].Type != "string" || args[3].Type != "number" {
		return badPlan
	}
	values := func(a planArg) (resource.Values, bool) {
		if a.Type != "object" || a.Throws != "" {
			return nil, false
		}
		text := "<undefined>" // js.Value.String of undefined
		if a.Text != nil {
			text = *a.Text
		}
		var m map[resource.Name]float64
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			return nil, false
		}
		out := resource.Values{}
		for _, n := range resource.All {
			out[n] = m[n]
		}
		return out, true
	}
	max, ok1 := values(args[1])
	off, ok2 := values(args[2])
	if !ok1 || !ok2 {
		return badPlan
	}
	percent, err := strconv.ParseFloat(args[3].Num, 64)
	if err != nil {
		t.Fatalf("percent %q: %v", args[3].Num, err)
	}
	if len(*args[0].Str) > vesselinfo.MaxSize {
		t.Fatalf("a vesselinfo of %d bytes: seattlePlan would cut it", len(*args[0].Str))
	}
	b, err := json.Marshal(plan.Preview([]byte(*args[0].Str), max, off, percent))
	if err != nil {
		return badPlan
	}
	return string(b)
}

// jsString is s as a JavaScript string literal (JSON's is one).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hostileObjects are maximums or offcuts a careless or hostile page might
// pass: not objects, objects JSON.stringify refuses or rewrites, objects
// with values of the wrong kind, a very large one.
var hostileObjects = []string{
	`null`, `undefined`, `[]`, `[1, 2]`, `"cpu"`, `5`, `true`, `() => 1`, `new Date(0)`, `/cpu/`,
	`({toJSON() { return null; }})`, `({toJSON() { return 5; }})`, `({toJSON() { return undefined; }})`,
	`({toJSON() { return {cpu: "x"}; }})`, `({toJSON() { return {cpu: 2}; }})`,
	`(() => { const o = {cpu: 1}; o.self = o; return o; })()`,
	`({get cpu() { throw new Error("no"); }})`, `({cpu: 1n})`,
	`new Proxy({}, {ownKeys() { throw new Error("no keys"); }})`,
	`Object.create({cpu: 5})`, `({cpu: NaN, memory: Infinity, diskused: -Infinity})`,
	`({cpu: new Number(2), memory: new String("3")})`, `({cpu: new Number(2)})`, `({cpu: [1]})`, `({cpu: {}})`,
	`({cpu: "0.5"})`, `({cpu: null, memory: undefined})`, `({["__proto__"]: 5, cpu: 1})`,
	`({[String.fromCharCode(0xd800)]: 1, cpu: 1})`, `({"": 1, "cpu ": 2, CPU: 3})`,
	`({cpu: 0.5, memory: -1e308, diskused: 1e308})`, `({cpu: 5e-324, memory: 1.7976931348623157e308})`,
	`Object.fromEntries(Array.from({length: 100000}, (_, i) => ["k" + i, i]).concat([["cpu", 0.75]]))`,
	`Object.fromEntries(Array.from({length: 1000}, (_, i) => ["k" + i, {deep: [i]}]))`,
	`new Map([["cpu", 1]])`, `Object.freeze({cpu: 1, memory: 2})`, `new Uint8Array(4)`,
}

// planCases builds the calls: generated ones (vesselinfo files of the
// vesselinfo generator, maximums and offcuts from plausible to absurd,
// percentages at and beyond the edges) and the hostile ones above.
func planCases(n int, seed uint64) [][]string {
	r := rand.New(rand.NewPCG(seed, 13))
	var srcs, valid []string
	for _, src := range generate(400, seed) {
		if utf8.Valid(src) && len(src) < 20000 {
			srcs = append(srcs, string(src))
			if vesselinfo.Validate(src).Valid {
				valid = append(valid, string(src))
			}
		}
	}
	srcs = append(srcs, "", "Percent 40\nOwner 3 123456789123456789\nUser 5 77\nPercent 60\nOwner 3 21\n")
	valid = append(valid, srcs[len(srcs)-1])
	number := func() any {
		switch r.IntN(12) {
		case 0:
			return []any{0, -1, 1e308, 5e-324, 0.1, 1e21, 1e-7, 123456789012345678, -0.5}[r.IntN(9)]
		case 1:
			return []any{nil, "1", true, []int{1}, map[string]int{"x": 1}}[r.IntN(5)]
		}
		return r.Float64() * math.Pow(10, float64(r.IntN(12)))
	}
	object := func(scale func(resource.Name) float64) string {
		m := map[string]any{}
		for _, name := range resource.All {
			m[string(name)] = math.Round(scale(name) * (0.2 + r.Float64()))
			if name == resource.CPU {
				m[string(name)] = scale(name) * r.Float64()
			}
		}
		if r.IntN(4) == 0 { // one value missing, or odd
			name := string(resource.All[r.IntN(len(resource.All))])
			if r.IntN(2) == 0 {
				delete(m, name)
			} else {
				m[name] = number()
			}
		}
		if r.IntN(10) == 0 {
			m[[]string{"gpu", "Memory", "<script>", "\u2028", "\\"}[r.IntN(5)]] = number()
		}
		b, _ := json.Marshal(m)
		return "JSON.parse(" + jsString(string(b)) + ")"
	}
	maxScale := func(n resource.Name) float64 { return resource.Default(n, "amd64") * 4 }
	offScale := func(n resource.Name) float64 {
		if n == resource.CPU {
			return 0.01
		}
		return resource.Default(n, "amd64") / 2000
	}
	percent := func() string {
		switch r.IntN(10) {
		case 0:
			return []string{"0", "-0", "100", "100.00000000000001", "1e-320", "NaN", "Infinity", "-Infinity", "-5", "101", "0.1"}[r.IntN(11)]
		case 1:
			return strconv.Itoa(r.IntN(101))
		}
		return strconv.FormatFloat(r.Float64()*100, 'g', -1, 64)
	}
	var cases [][]string
	for range n {
		src := valid[r.IntN(len(valid))] // mostly files that give a plan
		if r.IntN(4) == 0 {
			src = srcs[r.IntN(len(srcs))]
		}
		cases = append(cases, []string{jsString(src), object(maxScale), object(offScale), percent()})
	}
	sample := jsString(srcs[len(srcs)-1])
	good := []string{sample, object(maxScale), object(offScale), "37"}
	for _, h := range hostileObjects {
		cases = append(cases, []string{good[0], h, good[2], good[3]}, []string{good[0], good[1], h, good[3]})
	}
	for _, args := range [][]string{
		{}, {sample}, good[:3], append(good[:4:4], "5"),
		{"42", good[1], good[2], good[3]}, {"null", good[1], good[2], good[3]}, {`new String("Percent 100\nOwner 3 5\n")`, good[1], good[2], good[3]},
		{`"Percent 100\nOwner 3 5\nUser 1 " + String.fromCharCode(0xd800)`, good[1], good[2], good[3]},
		{sample, good[1], good[2], `"37"`}, {sample, good[1], good[2], "null"}, {sample, good[1], good[2], "undefined"},
		{sample, good[1], good[2], "new Number(37)"}, {sample, good[1], good[2], "37n"},
	} {
		cases = append(cases, args)
	}
	return cases
}

// TestPlanWASMMatchesNative runs seattlePlan in the WebAssembly module
// under Node on thousands of calls, hostile ones included, and compares
// each result with what the module did when it used encoding/json
// (referencePlan, run natively): the same plan, the same refusal, and
// never a throw.
func TestPlanWASMMatchesNative(t *testing.T) {
	node := nodePath(t)
	dir := t.TempDir()
	cases := planCases(3000, seed)
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	casesFile, outFile := filepath.Join(dir, "cases.json"), filepath.Join(dir, "out")
	if err := os.WriteFile(casesFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := exec.CommandContext(ctx, node, filepath.Join("testdata", "plan.js"), wasmExec, wasmPath, casesFile, outFile).CombinedOutput(); err != nil {
		t.Fatalf("node plan.js: %v\n%s", err, out)
	}
	t.Logf("node ran seattlePlan %d times in %v", len(cases), time.Since(start).Round(time.Millisecond))
	out, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("%d results for %d calls", len(lines), len(cases))
	}
	kinds := map[string]int{}
	for i, line := range lines {
		var l planLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("call %d: %v: %.300s", i, err, line)
		}
		if l.Threw != "" || l.Result == nil {
			t.Errorf("call %d %v threw %q", i, cases[i], l.Threw)
			continue
		}
		want := referencePlan(t, l.Args)
		var got, exp any
		if err := json.Unmarshal(l.Result, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(want), &exp); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("call %d %.300v:\n got %.600s\nwant %.600s", i, cases[i], l.Result, want)
			continue
		}
		switch view := got.(map[string]any); {
		case view["ok"] == true:
			kinds["a plan"]++
		case want == badPlan:
			kinds["could not be worked out"]++
		default:
			kinds["a problem in words"]++
		}
	}
	t.Logf("results: %v", kinds)
	// The generator must reach every kind of result, or the test proves little.
	if kinds["a plan"] < len(cases)/5 || kinds["could not be worked out"] < 50 || kinds["a problem in words"] < len(cases)/10 {
		t.Errorf("results %v: the generator is off balance", kinds)
	}
}
