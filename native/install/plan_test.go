package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/assets"
	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

func defaults() resource.Values {
	v := resource.Values{}
	for _, n := range resource.All {
		v[n] = resource.Default(n, "amd64")
	}
	return v
}

func builtinOffcut(t testing.TB) resource.Values {
	t.Helper()
	o, err := ParseOffcut(assets.Offcut(), "resources.offcut")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func vessels(percents ...int) []vesselinfo.Vessel {
	var vs []vesselinfo.Vessel
	for i, p := range percents {
		vs = append(vs, vesselinfo.Vessel{Percent: p, Owner: vesselinfo.Key{E: "3", N: fmt.Sprint(1000 + i)}})
	}
	return vs
}

// TestMakePlanSample is the sample vesselinfo (40/20/20/20) at 10% of the
// default maximums, worked out by hand:
//
//	memory:   510000000 × 0.1 = 51000000; − 4 × 1000000 = 47000000; tenth 4700000; 40% → 18800000
//	diskused: 3700000000 × 0.1 = 370000000; − 4 × 100000 = 369600000; tenth 36960000; 40% → 147840000
//	events:   always 500; − 4 × 2 = 492; tenth int(49.2) = 49; 40% → 196
//	filesopened: int(25.0) = 25; − 4 = 21; tenth int(2.1) = 2; 40% → 8
//	lograte:  150000 − 400 = 149600; tenth 14960; 40% → 59840
//	cpu:      1 × 0.1 = 0.1; − 4 × 0.002 ≈ 0.092; tenth ≈ 0.0092; 40% ≈ 0.0368
func TestMakePlanSample(t *testing.T) {
	p, err := MakePlan(defaults(), 10, builtinOffcut(t), vessels(40, 20, 20, 20))
	if err != nil {
		t.Fatal(err)
	}
	want := map[resource.Name][4]float64{ // donated, after offcut, tenth, v1
		resource.Memory:      {51000000, 47000000, 4700000, 18800000},
		resource.DiskUsed:    {370000000, 369600000, 36960000, 147840000},
		resource.Events:      {500, 492, 49, 196},
		resource.FilesOpened: {25, 21, 2, 8},
		resource.InSockets:   {25, 25, 2, 8},
		resource.Random:      {20000, 20000, 2000, 8000},
		resource.FileWrite:   {120000, 116000, 11600, 46400},
		resource.LogRate:     {150000, 149600, 14960, 59840},
		resource.LoopSend:    {5000000, 5000000, 500000, 2000000},
	}
	for n, w := range want {
		got := [4]float64{p.Donated[n], p.AfterOffcut[n], p.Tenth[n], p.Vessels[0].Resources[n]}
		if got != w {
			t.Errorf("%s: donated, after offcut, tenth, v1 = %v, want %v", n, got, w)
		}
	}
	if got := state.PyFloat(p.Vessels[0].Resources[resource.CPU]); got != "0.0368" {
		t.Errorf("v1 cpu = %s, want 0.0368", got)
	}
	if got := p.Vessels[1].Resources[resource.Memory]; got != 9400000 {
		t.Errorf("v2 memory = %v, want 9400000", got)
	}
	for i, w := range [][2]int{{63100, 63139}, {63140, 63159}, {63160, 63179}, {63180, 63199}} {
		ports := p.Vessels[i].Ports
		if len(ports) != w[1]-w[0]+1 || ports[0] != w[0] || ports[len(ports)-1] != w[1] {
			t.Errorf("v%d ports %d-%d (%d), want %d-%d", i+1, ports[0], ports[len(ports)-1], len(ports), w[0], w[1])
		}
	}
}

func TestDonate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       resource.Name
		max, p  float64
		want    float64
		wantCPU string
	}{
		// The original divided the percentage by 100 first: 3 × 0.1, not 3 × 10 / 100.
		{"cpu_keeps_the_originals_rounding", resource.CPU, 3, 10, 0, "0.30000000000000004"},
		{"cpu_fraction", resource.CPU, 2, 25, 0, "0.5"},
		{"whole_resources_truncate", resource.Memory, 999, 10, 99, ""},
		{"truncate_not_round", resource.FilesOpened, 19, 10, 1, ""},
		{"fractional_percentage", resource.DiskUsed, 1000000, 12.5, 125000, ""},
		{"whole_machine", resource.Random, 200000, 100, 200000, ""},
		{"events_always_500", resource.Events, 99999, 1, 500, ""},
		{"events_always_500_at_100", resource.Events, 10, 100, 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := defaults()
			max[tc.n] = tc.max
			got := Donate(max, tc.p)[tc.n]
			if tc.wantCPU != "" {
				if s := state.PyFloat(got); s != tc.wantCPU {
					t.Errorf("Donate = %s, want %s", s, tc.wantCPU)
				}
				return
			}
			if got != tc.want {
				t.Errorf("Donate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInsufficientResources(t *testing.T) {
	// 10 vessels at 1% of the defaults: cpu 0.01 − 10 × 0.002 = −0.01,
	// memory 5100000 − 10 × 1000000 < 0, filesopened int(2.5) − 10 < 0;
	// diskused 37000000 − 1000000 and the rest are fine.
	_, err := MakePlan(defaults(), 1, builtinOffcut(t), vessels(10, 10, 10, 10, 10, 10, 10, 10, 10, 10))
	var ie *InsufficientError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an InsufficientError", err)
	}
	if want := []resource.Name{resource.CPU, resource.Memory, resource.FilesOpened}; !reflect.DeepEqual(ie.Negative, want) {
		t.Errorf("negative = %v, want %v", ie.Negative, want)
	}
	for _, s := range []string{"insufficient resources", "memory would be -4900000", "filesopened would be -8", "10 vessels"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the message lacks %q: %v", s, err)
		}
	}
	// The same machine and percentage suffice for one vessel: 0.01 − 0.002 ≥ 0.
	if _, err := MakePlan(defaults(), 1, builtinOffcut(t), vessels(100)); err != nil {
		t.Errorf("one vessel at 1%%: %v", err)
	}
}

func TestNothingLeftIsNotNegative(t *testing.T) {
	max := defaults()
	max[resource.FilesOpened] = 40 // 10% = 4, minus 4 vessels × 1 = 0
	p, err := MakePlan(max, 10, builtinOffcut(t), vessels(40, 20, 20, 20))
	if err != nil {
		t.Fatal(err)
	}
	if p.Vessels[0].Resources[resource.FilesOpened] != 0 {
		t.Errorf("filesopened = %v, want 0", p.Vessels[0].Resources[resource.FilesOpened])
	}
}

func TestShareAddsTenthsAsTheOriginal(t *testing.T) {
	tenth := resource.Values{}
	for _, n := range resource.All {
		tenth[n] = 7
	}
	tenth[resource.CPU] = 0.1
	s := Share(tenth, 30)
	// 0.1 + 0.1 + 0.1 = 0.30000000000000004 in float64, as Python printed it.
	if got := state.PyFloat(s[resource.CPU]); got != "0.30000000000000004" {
		t.Errorf("cpu = %s", got)
	}
	if s[resource.Memory] != 21 {
		t.Errorf("memory = %v, want 21", s[resource.Memory])
	}
}

func TestParseOffcut(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want string // in the error; "" for none
	}{
		{"builtin", string(assets.Offcut()), ""},
		{"comments_and_blank_lines", "# cost\n\n   \nresource cpu .002   # a comment\n\tresource memory 5\n", ""},
		{"crlf", "resource cpu .002\r\nresource memory 5\r\n", ""},
		{"unknown_resource", "resource cpu .002\nresource gpu 1\n", "f:2: unknown resource \"gpu\""},
		{"bad_number", "resource memory lots\n", "f:1: the cost of memory, \"lots\""},
		{"negative", "resource memory -1\n", "f:1:"},
		{"nan", "resource cpu NaN\n", "f:1:"},
		{"infinite", "resource cpu inf\n", "f:1:"},
		{"duplicate", "resource cpu 1\nresource cpu 2\n", "f:2: resource cpu is listed again (first on line 1)"},
		{"not_a_resource_line", "call sleep allow\n", "f:1: expected"},
		{"too_many_fields", "resource cpu 1 2\n", "f:1: expected"},
		{"oversized", strings.Repeat("# padding\n", MaxOffcutSize/10+1), "larger than"},
		{"a_huge_number", "resource cpu " + strings.Repeat("1", MaxOffcutSize-20), "f:1: the cost of cpu, \"1111"},
		{"control_characters", "resource \x1b[2Jcpu 1\n", `unknown resource "\x1b[2Jcpu"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseOffcut([]byte(tc.src), "f")
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			case tc.want == "" && len(v) != len(resource.All):
				t.Errorf("%d values, want one per resource", len(v))
			case err != nil && len(err.Error()) > 200:
				t.Errorf("the message is %d bytes long: it repeats too much of the file", len(err.Error()))
			}
		})
	}
	v, _ := ParseOffcut([]byte("resource memory 5 # five\n"), "f")
	if v[resource.Memory] != 5 || v[resource.CPU] != 0 {
		t.Errorf("memory %v cpu %v, want 5 and 0 (unlisted costs nothing)", v[resource.Memory], v[resource.CPU])
	}
}

// TestArithmeticMatchesPython runs the Python original's arithmetic
// (testdata/original.py) on hundreds of random machines, percentages and
// vessel splits, and compares every resource line.
func TestArithmeticMatchesPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil && runtime.GOOS == "windows" {
		t.Skip("no python3 for Windows here (Wine): the arithmetic is the same Go on every OS, and the Linux run compares it")
	}
	if err != nil {
		t.Fatalf("python3 is needed to compare with the original's arithmetic (make deps installs it): %v", err)
	}
	r := rand.New(rand.NewPCG(4, 2))
	offcut := builtinOffcut(t)
	type pycase struct {
		Max      map[resource.Name]float64 `json:"max"`
		Percent  float64                   `json:"percent"`
		Offcut   map[resource.Name]float64 `json:"offcut"`
		Percents []int                     `json:"percents"`
	}
	var cases []pycase
	var want strings.Builder
	for i := 0; i < 400; i++ {
		max := resource.Values{}
		for _, n := range resource.All {
			max[n] = float64(1 + r.Int64N(int64(resource.Default(n, "amd64")*20)))
		}
		max[resource.CPU] = float64(1 + r.IntN(64))
		pct := []float64{10, 1, 0.5, 33.3, 100, 7, 12.5}[r.IntN(7)]
		if r.IntN(3) == 0 {
			pct = 0.1 + r.Float64()*99.9
		}
		var percents []int
		for left := 10; left > 0; {
			k := 1 + r.IntN(left)
			percents = append(percents, 10*k)
			left -= k
		}
		cases = append(cases, pycase{max, pct, offcut, percents})
		p, err := MakePlan(max, pct, offcut, vessels(percents...))
		var ie *InsufficientError
		if errors.As(err, &ie) {
			names := make([]string, len(ie.Negative))
			for j, n := range ie.Negative {
				names[j] = string(n)
			}
			want.WriteString("insufficient " + strings.Join(names, " ") + "\n")
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		for _, v := range p.Vessels {
			b, err := state.ResourceFile(state.Vessel{Name: v.Name, Resources: v.Resources, Ports: v.Ports}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want.Write(b)
			want.WriteString("--\n")
		}
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(py, "testdata/original.py")
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 testdata/original.py: %v\n%s", err, out)
	}
	g, w := strings.Split(string(out), "\n"), strings.Split(want.String(), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			t.Fatalf("line %d: Python %q, Go %q", i+1, g[i], w[i])
		}
	}
	if len(g) != len(w) {
		t.Fatalf("Python printed %d lines, Go %d", len(g), len(w))
	}
	if !strings.Contains(want.String(), "insufficient") || !strings.Contains(want.String(), "resource cpu") {
		t.Error("the random cases never hit one of the two outcomes; change the seed")
	}
}
