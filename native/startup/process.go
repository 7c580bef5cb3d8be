package startup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Process is a node started by Start, as recorded for Stop.
type Process struct {
	PID int `json:"pid"`
	// Since identifies the process beyond its pid, where the system says
	// (Linux: its start time in clock ticks after boot), so that Stop never
	// signals a process that reused the pid.
	Since string `json:"since,omitempty"`
}

// earlyExit is how long Start watches the command for failing at once.
const earlyExit = 700 * time.Millisecond

// Start runs spec's command now, detached from the installer (its own
// session, no terminal, standard input from the null device), with its
// output appended to LogFile in the install directory. A command that
// fails within a moment is an error; one that exits 0 has put the node in
// the background, as start_seattle.sh does.
func Start(ctx context.Context, spec Spec) (Process, error) {
	logPath := filepath.Join(spec.Dir, LogFile)
	log, err := openLog(logPath)
	if err != nil {
		return Process{}, fmt.Errorf("open the node's log: %w", err)
	}
	defer log.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return Process{}, err
	}
	defer null.Close()
	// Not CommandContext: the node must outlive the installer.
	cmd := exec.Command(spec.Command, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, log, log
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return Process{}, fmt.Errorf("run %s: %w", spec.Command, err)
	}
	p := Process{PID: cmd.Process.Pid, Since: since(cmd.Process.Pid)}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return p, fmt.Errorf("%s stopped at once (%v); its output is in %s", spec.Command, err, logPath)
		}
	case <-time.After(earlyExit):
	case <-ctx.Done():
	}
	return p, nil
}

// ErrNotRunning means Stop found nothing of the node running.
var ErrNotRunning = errors.New("the node is not running")
