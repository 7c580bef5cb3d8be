//go:build !js

package difftest

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The upload page's first visit must stay under 800 KB with gzip alone
// (TestStaticAssets in native/builder measures the visit); the validator
// is most of it. These tests say why when it grows.

// TestModuleLeavesOutHeavyPackages: the browser's module links none of
// the packages that once made it 3.5 MB instead of 2.3 (fmt and
// encoding/json, with the reflection and os they bring).
func TestModuleLeavesOutHeavyPackages(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", wasmPackage)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", wasmPackage, err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	if !deps["syscall/js"] || !deps["github.com/seattletestbed/seattle-installer/wasm/plan"] {
		t.Fatalf("go list printed no sensible dependencies:\n%s", out)
	}
	for _, heavy := range []string{"fmt", "encoding/json", "os", "text/template", "regexp", "math/big", "time/tzdata"} {
		if deps[heavy] {
			t.Errorf("the WebAssembly module imports %s (see `GOOS=js GOARCH=wasm go list -deps ./wasm`)", heavy)
		}
	}
}

// TestModuleSize: the module as make builds it, gzipped at the highest
// level, is at most 700 KB.
func TestModuleSize(t *testing.T) {
	b, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(b)
	w.Close()
	t.Logf("validator.wasm: %d bytes, %d gzipped (Go's compress/gzip, level 9)", len(b), z.Len())
	if z.Len() > 700_000 {
		t.Errorf("validator.wasm gzips to %d bytes, want at most 700 KB: the upload page's first visit would not fit 800 KB with gzip alone", z.Len())
	}
}
