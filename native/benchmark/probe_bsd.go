//go:build freebsd || openbsd || netbsd

package benchmark

import "os"

func filesystemKind(_, _ string) (string, bool) { return "", false }

func openSynced(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_SYNC, 0o600)
}

// openUncached: not every BSD has O_DIRECT, so fileread reuses the write
// rate there, as the original did.
func openUncached(string) (*os.File, bool, error) { return nil, false, errNoCacheControl }

func dropCache(*os.File) error { return errNoCacheControl }
