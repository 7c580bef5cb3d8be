//go:build darwin

package benchmark

import (
	"os"

	"golang.org/x/sys/unix"
)

func filesystemKind(_, _ string) (string, bool) { return "", false }

func openSynced(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|unix.O_DSYNC, 0o600)
}

// openUncached turns the cache off for this descriptor (F_NOCACHE), macOS's
// counterpart of O_DIRECT.
func openUncached(name string) (*os.File, bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, false, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_NOCACHE, 1); err != nil {
		f.Close()
		return nil, false, errNoCacheControl
	}
	return f, true, nil
}

func dropCache(*os.File) error { return errNoCacheControl }
