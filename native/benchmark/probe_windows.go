//go:build windows

package benchmark

import (
	"context"
	"fmt"
	"os"
	"syscall"
)

// probeOpenFiles reads the C runtime's limit on open files (_getmaxstdio),
// as the original did, and splits it in three like on Linux.
func probeOpenFiles(context.Context) (files, in, out float64, note string, err error) {
	proc := syscall.NewLazyDLL("msvcrt.dll").NewProc("_getmaxstdio")
	if err := proc.Find(); err != nil {
		return 0, 0, 0, "", fmt.Errorf("find _getmaxstdio in msvcrt.dll: %w", err)
	}
	r, _, _ := proc.Call()
	n := int64(int32(r))
	if n <= 0 {
		return 0, 0, 0, "", fmt.Errorf("_getmaxstdio returned %d", n)
	}
	third := float64(n / 3)
	return third, third, third, fmt.Sprintf("a third each of the C runtime's limit %d", n), nil
}

func filesystemKind(_, _ string) (string, bool) { return "", false }

// openSynced: Go turns O_SYNC into FILE_FLAG_WRITE_THROUGH on Windows.
func openSynced(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_SYNC, 0o600)
}

// openUncached: FILE_FLAG_NO_BUFFERING needs sector-aligned everything;
// fileread reuses the write rate instead, as the original did.
func openUncached(string) (*os.File, bool, error) { return nil, false, errNoCacheControl }

func dropCache(*os.File) error { return errNoCacheControl }
