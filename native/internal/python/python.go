// Package python finds the Python 3 interpreter that tests read the
// installer's files back with, as Seattle's node manager (a Python
// program) reads them.
//
// make test installs it (scripts/install-deps). The Windows tests run
// under Wine here, which has no Python: there a test that needs it is
// skipped, saying which other test checks the same property.
package python

import (
	"os/exec"
	"runtime"
	"testing"
)

// Path returns python3's path. Without one the test fails, saying what it
// was needed for (why), except on Windows, where it is skipped naming the
// test that covers the same property without Python (covered).
func Path(tb testing.TB, why, covered string) string {
	tb.Helper()
	p, err := exec.LookPath("python3")
	if err != nil && runtime.GOOS == "windows" {
		tb.Skipf("no Python for Windows here (%v); %s", err, covered)
	}
	if err != nil {
		tb.Fatalf("python3 is needed %s (make deps installs it): %v", why, err)
	}
	return p
}
