package state

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/python"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// python3 is the interpreter the format tests compare against (see package python).
func python3(t testing.TB, covered string) string {
	t.Helper()
	return python.Path(t, "to check the Python formats", covered)
}

func TestPyFloat(t *testing.T) {
	tenth := 0.1 // a variable: constant arithmetic would be exact
	for _, tc := range []struct {
		x    float64
		want string
	}{
		{1, "1.0"},
		{0.1, "0.1"},
		{0.0368, "0.0368"},
		{tenth + 0.2, "0.30000000000000004"},
		{1e-4, "0.0001"},
		{1e-5, "1e-05"},
		{1.5e-7, "1.5e-07"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{123456789.125, "123456789.125"},
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{-2.5, "-2.5"},
		{1e300, "1e+300"},
		{5e-324, "5e-324"},
	} {
		if got := PyFloat(tc.x); got != tc.want {
			t.Errorf("PyFloat(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}

// pyFloatCases are thousands of values across every magnitude, the same
// on every platform (a seeded generator).
func pyFloatCases() []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	var xs []float64
	for i := 0; i < 3000; i++ {
		var x float64
		switch i % 3 {
		case 0:
			x = r.Float64() * math.Pow(10, float64(r.IntN(40)-20))
		case 1:
			x = float64(r.IntN(1000)) * 0.1 * float64(r.IntN(10)+1) / 100
		default:
			x = math.Float64frombits(r.Uint64() &^ (1 << 63)) // any finite bit pattern
		}
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			xs = append(xs, x)
		}
	}
	return xs
}

// pyReprGolden holds, for each of pyFloatCases, its bits and what Python's
// repr printed for it (TestPyFloatMatchesPython checks it against Python).
const pyReprGolden = "pyfloat-repr.golden"

// TestPyFloatMatchesPython compares PyFloat with what Python's repr
// prints for thousands of values, and the golden file of those reprs with
// Python's output.
func TestPyFloatMatchesPython(t *testing.T) {
	py := python3(t, "TestPyFloatGolden compares PyFloat with "+pyReprGolden+", which Python printed and the Linux run checks")
	xs := pyFloatCases()
	var in strings.Builder
	for _, x := range xs {
		in.WriteString(strconv.FormatUint(math.Float64bits(x), 10) + "\n")
	}
	cmd := exec.Command(py, "-c", `import sys, struct
for line in sys.stdin:
    print(line.strip(), repr(struct.unpack('<d', struct.pack('<Q', int(line)))[0]))`)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	golden(t, pyReprGolden, out)
	comparePyFloat(t, out, len(xs))
}

// TestPyFloatGolden compares PyFloat with Python's reprs as recorded in
// the golden file, so that a platform without Python checks them too.
func TestPyFloatGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", pyReprGolden))
	if err != nil {
		t.Fatal(err)
	}
	comparePyFloat(t, b, len(pyFloatCases()))
}

// comparePyFloat checks lines "BITS REPR" against PyFloat.
func comparePyFloat(t *testing.T, reprs []byte, n int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(reprs)), "\n")
	if len(lines) != n {
		t.Fatalf("%d values, want %d", len(lines), n)
	}
	bad := 0
	for _, line := range lines {
		bits, repr, _ := strings.Cut(strings.TrimSpace(line), " ")
		u, err := strconv.ParseUint(bits, 10, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if got := PyFloat(math.Float64frombits(u)); got != repr {
			t.Errorf("repr = %s, PyFloat = %s", repr, got)
			if bad++; bad > 10 {
				t.FailNow()
			}
		}
	}
}

// sampleVessels are the vessels of native/assets/vesselinfo.sample with the
// resources a 10% donation of the default maximums gives them.
func sampleVessels() []Vessel {
	share := func(tenths float64, cpu float64) resource.Values {
		return resource.Values{
			resource.CPU: cpu, resource.Memory: 4700000 * tenths, resource.DiskUsed: 36960000 * tenths,
			resource.Events: 49 * tenths, resource.FilesOpened: 2 * tenths, resource.InSockets: 2 * tenths,
			resource.OutSockets: 2 * tenths, resource.Random: 2000 * tenths, resource.FileWrite: 11600 * tenths,
			resource.FileRead: 11600 * tenths, resource.NetRecv: 5000 * tenths, resource.NetSend: 5000 * tenths,
			resource.LogRate: 14960 * tenths, resource.LoopSend: 500000 * tenths, resource.LoopRecv: 500000 * tenths,
		}
	}
	ports := func(from, n int) []int {
		var p []int
		for i := 0; i < n; i++ {
			p = append(p, from+i)
		}
		return p
	}
	return []Vessel{
		{Name: "v1", Owner: Key{"123456789123", "123456789123456789123456789"},
			Users: []Key{{"23456789123", "23456789123456789123456789"}}, Resources: share(4, 0.0368), Ports: ports(63100, 40)},
		{Name: "v2", Owner: Key{"3456789123", "3456789123456789123456789"}, Resources: share(2, 0.0184), Ports: ports(63140, 20)},
		{Name: "v3", Owner: Key{"456789123", "456789123456789123456789"}, Resources: share(2, 0.0184), Ports: ports(63160, 20)},
		{Name: "v4", Owner: Key{"56789123", "56789123456789123456789"}, Resources: share(2, 0.0184), Ports: ports(63180, 20)},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func TestResourceFileGolden(t *testing.T) {
	restrictions := []byte("call gethostbyname_ex allow\ncall sendmess allow\n")
	for _, v := range sampleVessels()[:2] {
		b, err := ResourceFile(v, restrictions)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "resource."+v.Name+".golden", b)
		if !bytes.HasSuffix(b, restrictions) {
			t.Errorf("resource.%s does not end with the restrictions unchanged", v.Name)
		}
	}
}

func TestResourceFileRejects(t *testing.T) {
	base := sampleVessels()[1]
	for _, tc := range []struct {
		name string
		edit func(v *Vessel)
	}{
		{"missing_resource", func(v *Vessel) { delete(v.Resources, resource.LoopRecv) }},
		{"fractional_whole_resource", func(v *Vessel) { v.Resources[resource.Memory] = 1.5 }},
		{"negative", func(v *Vessel) { v.Resources[resource.Random] = -1 }},
		{"nan_cpu", func(v *Vessel) { v.Resources[resource.CPU] = math.NaN() }},
		{"infinite_cpu", func(v *Vessel) { v.Resources[resource.CPU] = math.Inf(1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := base
			v.Resources = resource.Values{}
			for k, x := range base.Resources {
				v.Resources[k] = x
			}
			tc.edit(&v)
			if _, err := ResourceFile(v, nil); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestVesseldictGolden(t *testing.T) {
	b, err := Vesseldict(sampleVessels())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "vesseldict.golden", b)
}

// bigKeyVessels are the sample's vessels with keys far larger than 64 bits.
func bigKeyVessels() []Vessel {
	vs := sampleVessels()
	big := strings.Repeat("9", 600)
	vs[2].Users = []Key{{"3", big}, {"65537", "1" + big}}
	return vs
}

// TestVesseldictBigKeysGolden: the vesseldict of bigKeyVessels is the one
// that TestVesseldictReadsBackInPython has Python read.
func TestVesseldictBigKeysGolden(t *testing.T) {
	b, err := Vesseldict(bigKeyVessels())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "vesseldict-bigkeys.golden", b)
}

// TestVesseldictReadsBackInPython reads the vesseldict with Python's
// ast.literal_eval, as the node manager does, and checks every field,
// including keys far larger than 64 bits.
func TestVesseldictReadsBackInPython(t *testing.T) {
	py := python3(t, "TestVesseldictBigKeysGolden checks that this vesseldict is, byte for byte, the one Python reads back in the Linux run")
	vs := bigKeyVessels()
	b, err := Vesseldict(vs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vesseldict")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Python turns it into JSON, keys as strings so no precision is lost,
	// keeping the order of the keys.
	out, err := exec.Command(py, "-c", `import ast, json, sys
d = ast.literal_eval(open(sys.argv[1]).read())
def conv(o):
    if isinstance(o, bool) or o is None: return o
    if isinstance(o, int): return str(o)
    if isinstance(o, dict): return [[k, conv(v)] for k, v in o.items()]
    if isinstance(o, list): return [conv(x) for x in o]
    return o
print(json.dumps(conv(d)))`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 could not read the vesseldict: %v\n%s", err, out)
	}
	var got [][2]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got) != len(vs) {
		t.Fatalf("%d vessels read back, want %d", len(got), len(vs))
	}
	keyJSON := func(k Key) string { return `[["e","` + k.E + `"],["n","` + k.N + `"]]` }
	for i, v := range vs {
		var name string
		json.Unmarshal(got[i][0], &name)
		if name != v.Name {
			t.Errorf("vessel %d is %q, want %q", i, name, v.Name)
		}
		users := make([]string, len(v.Users))
		for j, u := range v.Users {
			users[j] = keyJSON(u)
		}
		want := `[["userkeys",[` + strings.Join(users, ",") + `]],["ownerkey",` + keyJSON(v.Owner) + `],["oldmetadata",null],` +
			`["stopfilename","` + v.Name + `.stop"],["logfilename","` + v.Name + `.log"],["statusfilename","` + v.Name + `.status"],` +
			`["resourcefilename","resource.` + v.Name + `"],["advertise",true],["ownerinformation",""],["status","Fresh"]]`
		var compact bytes.Buffer
		json.Compact(&compact, got[i][1])
		if compact.String() != want {
			t.Errorf("%s read back as\n%s\nwant\n%s", v.Name, compact.String(), want)
		}
	}
}

func TestVesseldictRejectsWhatIsNotAKey(t *testing.T) {
	for _, k := range []Key{{"", "5"}, {"3", "12a"}, {"3", "0x10"}, {"03", "10"}, {"3", "1}, 'x': {"}, {"-3", "10"}} {
		vs := sampleVessels()[:1]
		vs[0].Owner = k
		if _, err := Vesseldict(vs); err == nil {
			t.Errorf("key %q: no error", k)
		}
	}
	vs := sampleVessels()[:1]
	vs[0].Name = "../v1"
	if _, err := Vesseldict(vs); err == nil {
		t.Error("vessel name ../v1: no error")
	}
}
