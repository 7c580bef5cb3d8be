//go:build !linux

package benchmark

// Moving a thread to one CPU takes thread-affinity calls this package has
// only on Linux; elsewhere the rounds run where the system puts them.

func allowedCPUs() []int { return nil }

func pinTo(int) error { return ErrNotImplemented }

func restoreCPUs([]int) error { return nil }

func currentCPU() int { return -1 }
