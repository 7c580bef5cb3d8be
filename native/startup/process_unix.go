//go:build unix

package startup

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

func openLog(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o644)
}

// since is the process's start time from /proc (Linux); "" elsewhere.
func since(pid int) string {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name may hold spaces and parentheses: count after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22, starttime
}

// Stop ends the node p: SIGTERM to its whole process group (the start
// command and what it started), SIGKILL after grace if anything is left.
// The group's id was the start command's pid; the kernel does not reuse a
// pid while a group of that id has members, so signalling the group cannot
// reach strangers, and a leader that is alive under another start time
// means the group is gone.
func Stop(p Process, grace time.Duration) error {
	if p.PID <= 1 {
		return ErrNotRunning
	}
	if p.Since != "" {
		if now := since(p.PID); now != "" && now != p.Since {
			return ErrNotRunning
		}
	}
	if err := syscall.Kill(-p.PID, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return ErrNotRunning
		}
		return err
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if syscall.Kill(-p.PID, 0) != nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(-p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// Running reports whether anything of the node p still runs.
func Running(p Process) bool {
	if p.PID <= 1 {
		return false
	}
	if p.Since != "" {
		if now := since(p.PID); now != "" && now != p.Since {
			return false
		}
	}
	return syscall.Kill(-p.PID, 0) == nil
}
