//go:build !js

package difftest

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkWASMFunction times seattleValidateVesselinfo itself under Node:
// what a page pays, with the bytes copied into the module and the result
// parsed back into JavaScript objects. Node times the calls itself, after a
// warm-up and for two seconds, so ns/op and MB/s leave out the start of the
// process (b.N is not used: one run of Node is one measurement).
func BenchmarkWASMFunction(b *testing.B) {
	node := nodePath(b)
	dir := b.TempDir()
	sample, err := os.ReadFile(filepath.Join(moduleRoot, "native", "assets", "vesselinfo.sample"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		src  []byte
	}{
		{"10000_keys", keyFile(10, 999, 1)}, // vesselinfo's BenchmarkParse file
		{"sample", sample},
	} {
		b.Run(bc.name, func(b *testing.B) {
			input := filepath.Join(dir, bc.name)
			if err := os.WriteFile(input, bc.src, 0o644); err != nil {
				b.Fatal(err)
			}
			out, err := exec.Command(node, filepath.Join("testdata", "bench.js"), wasmExec, wasmPath, input).CombinedOutput()
			if err != nil {
				b.Fatalf("node bench.js: %v\n%s", err, out)
			}
			f := strings.Fields(string(out))
			if len(f) != 3 || f[2] != "true" {
				b.Fatalf("node bench.js printed %q, want \"CALLS NS true\"", out)
			}
			calls, err1 := strconv.ParseFloat(f[0], 64)
			ns, err2 := strconv.ParseFloat(f[1], 64)
			if err1 != nil || err2 != nil || calls == 0 {
				b.Fatalf("node bench.js printed %q", out)
			}
			perCall := ns / calls
			b.ReportMetric(perCall, "ns/op")
			b.ReportMetric(float64(len(bc.src))/perCall*1e3, "MB/s")
		})
	}
}

// keyFile is vesselinfo's benchmark file (bench_test.go there), rebuilt here
// because test files cannot be imported: vessels of equal share, one Owner and
// users Users each, keys of RSA-1024 size.
func keyFile(vessels, users int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	key := func(label string) {
		b.WriteString(label + " " + strconv.Itoa(10000+r.IntN(990000)) + " ")
		b.WriteByte(byte('1' + r.IntN(9)))
		for range 308 {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		b.WriteByte('\n')
	}
	for range vessels {
		b.WriteString("Percent " + strconv.Itoa(100/vessels) + "\n")
		key("Owner")
		for range users {
			key("User")
		}
	}
	return b.Bytes()
}
