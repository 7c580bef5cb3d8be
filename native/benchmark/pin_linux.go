//go:build linux

package benchmark

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// allowedCPUs lists the CPUs the calling thread may run on (its affinity,
// which a container's cpuset also narrows), nil if the OS does not say.
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for c := 0; len(cpus) < set.Count(); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// pinTo makes the calling thread, which the caller has locked, run only on
// the given CPU from now on.
func pinTo(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set)
}

// restoreCPUs lets the calling thread run on the given CPUs again (those
// allowedCPUs returned); nil restores nothing.
func restoreCPUs(cpus []int) error {
	if cpus == nil {
		return nil
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return unix.SchedSetaffinity(0, &set)
}

// currentCPU returns the CPU the calling thread runs on, -1 if unknown.
func currentCPU() int {
	var cpu, node uint32
	if _, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); errno != 0 {
		return -1
	}
	return int(cpu)
}
