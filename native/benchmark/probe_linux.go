//go:build linux

package benchmark

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// probeCPU counts the physical cores among the CPUs this process may run on
// (its affinity, which a cpuset cgroup also sets), capped by the cgroup CPU
// quota. A quota is a share of CPU time, so a fractional one (1.5 CPUs) is
// kept as it is: cpu is the one fractional resource, and rounding up would
// donate time the container does not have.
func probeCPU(_ context.Context, root string) (float64, string, error) {
	b, err := readSys(root, "/proc/cpuinfo")
	if err != nil {
		return 0, "", err
	}
	cores, err := parseCPUInfo(b)
	if err != nil {
		return 0, "", err
	}
	st, err := readSys(root, "/proc/self/status")
	if err != nil {
		return 0, "", err
	}
	list, ok := statusField(st, "Cpus_allowed_list")
	if !ok {
		return 0, "", errors.New("/proc/self/status has no Cpus_allowed_list")
	}
	allowed, err := parseCPUList(list)
	if err != nil {
		return 0, "", fmt.Errorf("/proc/self/status Cpus_allowed_list: %w", err)
	}
	logical := 0
	for cpu := range cores {
		if allowed[cpu] {
			logical++
		}
	}
	n := physicalCores(cores, allowed)
	if n == 0 {
		return 0, "", fmt.Errorf("none of the CPUs this process may use (%s) is in /proc/cpuinfo", truncate(list, 40))
	}
	lim, err := readCgroupLimits(root)
	if err != nil {
		return 0, "", fmt.Errorf("read the cgroup limits: %w", err)
	}
	if len(lim.badCPU) > 0 {
		return 0, "", fmt.Errorf("unreadable CPU quota: %s", strings.Join(lim.badCPU, "; "))
	}
	v := float64(n)
	note := fmt.Sprintf("%d physical cores among the %d logical CPUs this process may use", n, logical)
	switch {
	case lim.cpu > 0 && lim.cpu < v:
		v = lim.cpu
		note += fmt.Sprintf("; capped at %g by the cgroup CPU quota (%s)", lim.cpu, lim.cpuWhere)
	case lim.cpu > 0:
		note += fmt.Sprintf("; the cgroup CPU quota of %g (%s) does not bind", lim.cpu, lim.cpuWhere)
	default:
		note += "; no cgroup CPU quota"
	}
	return v, note, nil
}

// probeMemory reads MemTotal, capped by the cgroup memory limits.
func probeMemory(_ context.Context, root string) (float64, string, error) {
	b, err := readSys(root, "/proc/meminfo")
	if err != nil {
		return 0, "", err
	}
	total, err := parseMemTotal(b)
	if err != nil {
		return 0, "", err
	}
	lim, err := readCgroupLimits(root)
	if err != nil {
		return 0, "", fmt.Errorf("read the cgroup limits: %w", err)
	}
	if len(lim.badMem) > 0 {
		return 0, "", fmt.Errorf("unreadable memory limit: %s", strings.Join(lim.badMem, "; "))
	}
	if lim.mem > 0 && lim.mem < total {
		return lim.mem, fmt.Sprintf("MemTotal %.0f bytes, capped at %.0f by the cgroup limit (%s)", total, lim.mem, lim.memWhere), nil
	}
	return total, "", nil
}

// probeDisk returns the bytes an unprivileged user may still write on the
// filesystem of dir: the available blocks (not the free ones, which include
// root's reserve) times the block size statfs counts them in.
func probeDisk(_ context.Context, dir string) (float64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	// Blocks are counted in fragments (f_frsize) where that differs from
	// f_bsize, as df(1) reads them; on most filesystems the two are equal.
	unit := uint64(st.Frsize)
	if unit == 0 {
		unit = uint64(st.Bsize)
	}
	return float64(uint64(st.Bavail) * unit), nil
}

// probeOpenFiles splits the original soft open-files limit in three, as the
// original did: files and both kinds of sockets share the one descriptor
// table.
func probeOpenFiles(ctx context.Context) (files, in, out float64, note string, err error) {
	n, err := originalOpenFilesLimit(ctx)
	if err != nil {
		return 0, 0, 0, "", err
	}
	third := float64(n / 3)
	return third, third, third, fmt.Sprintf("a third each of the open-files limit %d", n), nil
}

// filesystemKind finds the mount that holds dir in mountinfo and says when it
// is not a disk.
func filesystemKind(root, dir string) (string, bool) {
	b, err := readSys(root, "/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	mounts, err := parseMountInfo(b)
	if err != nil {
		return "", false
	}
	p := dir
	if root == "" {
		if abs, err := filepath.Abs(dir); err == nil {
			p = abs
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
	}
	m, ok := mountOf(mounts, filepath.ToSlash(p))
	if !ok {
		return "", false
	}
	return ramBacked(m.fstype)
}

// openSynced opens a file so that each write returns once its data is on the
// disk (O_DSYNC: data and the size, not every timestamp), as fio --sync=dsync.
func openSynced(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|unix.O_DSYNC, 0o600)
}

// openUncached opens a file for reads that bypass the page cache (O_DIRECT).
// Filesystems that refuse it (tmpfs, some FUSE) get a plain file and direct
// false: the caller then drops the file from the cache before each pass.
func openUncached(name string) (*os.File, bool, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_DIRECT, 0)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return nil, false, err
	}
	f, err = os.Open(name)
	return f, false, err
}

// dropCache asks the kernel to forget the file's cached pages, so the next
// reads go to the disk (the data was synced, so nothing is dirty).
func dropCache(f *os.File) error {
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// threadCPU returns the CPU time the calling thread has used and how often
// it blocked (voluntary context switches: it waited for something).
func threadCPU() (cpu time.Duration, blocks int64, ok bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, 0, false
	}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, 0, false
	}
	return time.Duration(ts.Nano()), int64(ru.Nvcsw), true
}
