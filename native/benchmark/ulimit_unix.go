//go:build linux || darwin || freebsd || openbsd || netbsd

package benchmark

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// originalOpenFilesLimit returns the soft open-files limit (RLIMIT_NOFILE)
// this process was started with.
//
// Getrlimit cannot tell it: since Go 1.19 the os package raises the soft limit
// to the hard one at start-up, and keeps the original only in an unexported
// variable of package syscall. Go documents that it restores the original
// limit for child processes, so a shell started now sees exactly the limit we
// were given, which is also how the original installer read it ("ulimit -n").
// A re-exec of this program would not do: the child is a Go program too and
// raises its limit again before any of our code runs.
func originalOpenFilesLimit(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/bin/sh", "-c", "ulimit -n").Output()
	if err != nil {
		return 0, fmt.Errorf("run /bin/sh -c 'ulimit -n': %w", err)
	}
	return parseUlimit(string(out))
}
