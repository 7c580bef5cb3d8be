//go:build linux

package benchmark

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// startCPUs are the CPUs the test program started with, read before any
// test could narrow a thread's.
var startCPUs = allowedCPUs()

var skipDisk = map[resource.Name]error{resource.FileWrite: errors.New("skipped"), resource.FileRead: errors.New("skipped")}

// cpusOfRounds runs the CPU-bound rates and returns, per rate, the CPUs its
// measured rounds ran on.
func cpusOfRounds(t *testing.T) map[resource.Name][]int {
	t.Helper()
	got := map[resource.Name][]int{}
	_, err := run(context.Background(), Options{Dir: t.TempDir(), Duration: quick}, config{fail: skipDisk, trace: func(r round) {
		if r.N > 0 && !slices.Contains(got[r.Name], r.CPU) {
			got[r.Name] = append(got[r.Name], r.CPU)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		slices.Sort(c)
	}
	return got
}

// TestCPURatesRunOnEveryAllowedCPU: a vessel may be placed on any CPU the
// process may use, and one CPU can be slower than another for seconds at a
// time, so every rate is measured on each of them.
func TestCPURatesRunOnEveryAllowedCPU(t *testing.T) {
	allowed := startCPUs
	if len(allowed) == 0 {
		t.Fatal("sched_getaffinity lists no CPU")
	}
	if len(allowed) > minRounds {
		allowed = nil // more CPUs than rounds: the test below covers the rotation
	}
	for n, cpus := range cpusOfRounds(t) {
		if allowed != nil && !slices.Equal(cpus, allowed) {
			t.Errorf("%s measured on CPUs %v, want each of %v", n, cpus, allowed)
		}
	}
}

// TestCPURatesStayOnTheCPUsTheProcessMayUse narrows the whole process to one
// CPU, as taskset or a container's cpuset does, and checks that no round ran
// elsewhere, and that every thread has that one CPU again afterwards.
func TestCPURatesStayOnTheCPUsTheProcessMayUse(t *testing.T) {
	orig := startCPUs
	only := orig[len(orig)-1]
	setAll := func(cpus []int) {
		var set unix.CPUSet
		for _, c := range cpus {
			set.Set(c)
		}
		for _, tid := range threads(t) {
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				t.Fatalf("sched_setaffinity %d: %v", tid, err)
			}
		}
	}
	setAll([]int{only})
	defer setAll(orig)
	for n, cpus := range cpusOfRounds(t) {
		if !slices.Equal(cpus, []int{only}) {
			t.Errorf("%s measured on CPUs %v, want only %d", n, cpus, only)
		}
	}
	assertThreadsOn(t, []int{only})
}

// TestRunGivesEveryThreadItsCPUsBack: the thread that moved from CPU to CPU
// is given back with the CPUs it had; no thread of the program (nor the
// /proc/self/status the cpu probe reads) is left narrowed to one CPU.
func TestRunGivesEveryThreadItsCPUsBack(t *testing.T) {
	for range 3 {
		cpusOfRounds(t)
	}
	assertThreadsOn(t, startCPUs)
}

func threads(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids
}

func assertThreadsOn(t *testing.T, want []int) {
	t.Helper()
	for _, tid := range threads(t) {
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			continue // the thread ended meanwhile
		}
		var got []int
		for _, c := range want {
			if set.IsSet(c) {
				got = append(got, c)
			}
		}
		if set.Count() != len(want) || !slices.Equal(got, want) {
			t.Errorf("thread %s may run on %d CPUs, want %v", filepath.Join("/proc/self/task", strconv.Itoa(tid)), set.Count(), want)
		}
	}
}
