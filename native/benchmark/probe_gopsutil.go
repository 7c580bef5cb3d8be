//go:build darwin || windows || freebsd || openbsd || netbsd

package benchmark

// Where gopsutil has the figure (every OS but Linux, whose probes must also
// read cgroups and so parse /proc themselves), it is used.

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
)

// probeCPU counts physical cores, capped by the logical CPUs the process may
// use (runtime.NumCPU honours the affinity mask where the OS has one).
func probeCPU(ctx context.Context, _ string) (float64, string, error) {
	n, err := cpu.CountsWithContext(ctx, false)
	if err != nil {
		return 0, "", fmt.Errorf("count physical cores: %w", err)
	}
	if n <= 0 {
		return 0, "", fmt.Errorf("counted %d physical cores", n)
	}
	if usable := runtime.NumCPU(); usable < n {
		return float64(usable), fmt.Sprintf("%d physical cores, capped at the %d CPUs this process may use", n, usable), nil
	}
	return float64(n), fmt.Sprintf("%d physical cores", n), nil
}

func probeMemory(ctx context.Context, _ string) (float64, string, error) {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("read total memory: %w", err)
	}
	return float64(vm.Total), "", nil
}

// probeDisk returns the bytes available to an unprivileged user
// (GetDiskFreeSpaceEx's FreeBytesAvailable on Windows, statfs f_bavail
// elsewhere).
func probeDisk(ctx context.Context, dir string) (float64, error) {
	u, err := disk.UsageWithContext(ctx, dir)
	if err != nil {
		return 0, fmt.Errorf("free space on %s: %w", dir, err)
	}
	return float64(u.Free), nil
}

// threadCPU: not measured here; the rates are timed by the clock.
func threadCPU() (cpu time.Duration, blocks int64, ok bool) { return 0, 0, false }
