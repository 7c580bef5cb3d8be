// Package linktest makes the links that tests of "never follow a link"
// need: symbolic links everywhere, and junctions (the directory links that
// any Windows user may make, unlike symbolic links) on Windows. Where the
// system cannot make one, the test is skipped with the reason; in
// particular Wine 8.0, which runs the Windows tests here, makes no links
// at all (see Symlink).
package linktest

import (
	"errors"
	"io/fs"
	"os"
	"testing"
)

// Symlink makes link point to target, and checks that Lstat sees a link.
// It skips the test when the system cannot make one:
//   - Wine 8.0's CreateSymbolicLinkW is a stub that reports success and
//     makes nothing (it logs "fixme:file:CreateSymbolicLinkW ... stub"),
//     so os.Symlink returns nil and Lstat finds no file;
//   - on Windows, an unprivileged user without Developer Mode may not make
//     symbolic links (ERROR_PRIVILEGE_NOT_HELD).
//
// Any other failure fails the test.
func Symlink(t testing.TB, target, link string) {
	t.Helper()
	err := os.Symlink(target, link)
	if err != nil {
		if reason := cannotLink(err); reason != "" {
			t.Skipf("cannot make a symbolic link here: %s: %v", reason, err)
		}
		t.Fatalf("make a symbolic link: %v", err)
	}
	st, err := os.Lstat(link)
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return
	}
	if v, ok := Wine(); ok {
		t.Skipf("Wine %s makes no symbolic links: os.Symlink(%q) returned nil (CreateSymbolicLinkW is a stub there) and Lstat gives %v; on Windows the link is made and this test runs", v, link, describe(st, err))
	}
	t.Fatalf("os.Symlink(%q) returned nil, but Lstat gives %v", link, describe(st, err))
}

func describe(st fs.FileInfo, err error) string {
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "no file"
		}
		return err.Error()
	}
	return "mode " + st.Mode().String()
}
