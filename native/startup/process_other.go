//go:build !unix && !windows

package startup

import (
	"os"
	"os/exec"
	"time"
)

func detach(*exec.Cmd)     {}
func since(int) string     { return "" }
func Running(Process) bool { return false }

func openLog(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
}

// Stop is not implemented here.
func Stop(Process, time.Duration) error { return ErrNotImplemented }
