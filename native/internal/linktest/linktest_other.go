//go:build !windows

package linktest

import "testing"

// Wine reports whether the program runs under Wine: never, off Windows.
func Wine() (string, bool) { return "", false }

func cannotLink(error) string { return "" }

// Junction skips the test: junctions are Windows's directory links (a
// symbolic link, which Symlink makes, is what stands for them elsewhere).
func Junction(t testing.TB, target, link string) {
	t.Helper()
	t.Skip("junctions exist on Windows only; the symbolic-link tests cover this system")
}
