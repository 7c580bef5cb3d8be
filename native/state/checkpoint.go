package state

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// TestPauseEnv is the test-only seam through which the crash tests stop the
// real binary at a chosen moment: with SEATTLE_INSTALLER_TEST_PAUSE=N the
// process announces its Nth checkpoint on standard error ("checkpoint N:
// what") and then waits forever, to be killed there. Unset (always, outside
// tests) checkpoints cost one comparison.
const TestPauseEnv = "SEATTLE_INSTALLER_TEST_PAUSE"

var pause struct {
	sync.Mutex
	at, count int
}

func init() {
	pause.at, _ = strconv.Atoi(os.Getenv(TestPauseEnv))
}

// Checkpoint marks a moment at which a crash test may stop the process: before
// each file operation of the state, and between the install's phases.
func Checkpoint(what string) {
	if pause.at <= 0 {
		return
	}
	pause.Lock()
	pause.count++
	n := pause.count
	pause.Unlock()
	if n != pause.at {
		return
	}
	fmt.Fprintf(os.Stderr, "checkpoint %d: %s\n", n, what)
	for {
		time.Sleep(time.Hour)
	}
}
