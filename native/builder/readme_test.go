package builder

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestReadmeGolden keeps the README.txt of every platform, what a donor
// reads first, under review in testdata/. Regenerate with
// go test ./native/builder -run TestReadmeGolden -update.
func TestReadmeGolden(t *testing.T) {
	vessels, err := vesselinfo.Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	in := buildInput{id: ID([]byte(sample)), vesselinfo: []byte(sample), vessels: vessels}
	for _, p := range Platforms {
		for _, webview := range []bool{false, true} {
			if webview && p.OS() != "linux" {
				continue
			}
			name := "README-" + string(p)
			if webview {
				name += "-webview"
			}
			t.Run(name, func(t *testing.T) {
				got := readme(p, webview, in)
				path := filepath.Join("testdata", name+".txt")
				if *update {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("README.txt differs from %s (run with -update and review the diff):\n%s", path, got)
				}
			})
		}
	}
}
