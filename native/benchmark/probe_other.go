//go:build !linux && !darwin && !windows && !freebsd && !openbsd && !netbsd

package benchmark

import (
	"context"
	"os"
	"time"
)

// On other systems every count fails with ErrNotImplemented: the install
// then uses the defaults and lists the failures. The rates that need no OS
// help (random, loopback, log) still run.

func probeCPU(context.Context, string) (float64, string, error)    { return 0, "", ErrNotImplemented }
func probeMemory(context.Context, string) (float64, string, error) { return 0, "", ErrNotImplemented }
func probeDisk(context.Context, string) (float64, error)           { return 0, ErrNotImplemented }

func probeOpenFiles(context.Context) (files, in, out float64, note string, err error) {
	return 0, 0, 0, "", ErrNotImplemented
}

func filesystemKind(_, _ string) (string, bool) { return "", false }

func openSynced(string) (*os.File, error) { return nil, ErrNotImplemented }

func openUncached(string) (*os.File, bool, error) { return nil, false, ErrNotImplemented }

func dropCache(*os.File) error { return ErrNotImplemented }

// threadCPU: not measured here; the rates are timed by the clock.
func threadCPU() (cpu time.Duration, blocks int64, ok bool) { return 0, 0, false }
