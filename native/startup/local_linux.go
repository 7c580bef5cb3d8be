//go:build linux

package startup

import (
	"os"
	"path/filepath"
	"strings"
)

// cronRunning looks for a process named cron or crond, as the original
// installer did with ps.
func cronRunning() (bool, string) {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, c := range comms {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		switch strings.TrimSpace(string(b)) {
		case "cron", "crond", "cronie", "busybox-crond":
			return true, "found " + strings.TrimSpace(string(b))
		}
	}
	return false, "no cron or crond process"
}
