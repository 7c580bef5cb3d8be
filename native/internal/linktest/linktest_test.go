package linktest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestSymlinkLeadsToTheTarget: the link made is one a careless open would
// follow, so the tests using it test something.
func TestSymlinkLeadsToTheTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	Symlink(t, target, link)
	if got, err := os.Readlink(link); err != nil || got != target {
		t.Errorf("Readlink = %q, %v; want %q", got, err, target)
	}
	if b, err := os.ReadFile(link); err != nil || string(b) != "precious" {
		t.Errorf("read through the link: %q, %v", b, err)
	}
}

// TestJunctionLeadsToTheTarget: what is made through the junction lands
// in its target, as for the junctions a donor's other programs make.
func TestJunctionLeadsToTheTarget(t *testing.T) {
	dir, target := t.TempDir(), t.TempDir()
	link := filepath.Join(dir, "junction")
	Junction(t, target, link)
	if got, err := os.Readlink(link); err != nil || got != target {
		t.Errorf("Readlink = %q, %v; want %q", got, err, target)
	}
	if err := os.WriteFile(filepath.Join(link, "through"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "through")); err != nil {
		t.Errorf("a file made through the junction is not in its target: %v", err)
	}
	os.Remove(link) // the junction itself, before the test's cleanup
}

// TestWineIsRecognised: the tests run under Wine here (scripts/test-windows
// sets WINEPREFIX, which Wine passes on to Windows programs), and the skip
// messages name Wine only when the program really runs under it.
func TestWineIsRecognised(t *testing.T) {
	v, ok := Wine()
	switch {
	case runtime.GOOS != "windows" && ok:
		t.Errorf("Wine %q reported on %s", v, runtime.GOOS)
	case runtime.GOOS == "windows" && os.Getenv("WINEPREFIX") != "" && (!ok || v == ""):
		t.Errorf("under Wine (WINEPREFIX=%s), Wine() = %q, %v", os.Getenv("WINEPREFIX"), v, ok)
	}
	t.Logf("Wine() = %q, %v", v, ok)
}
