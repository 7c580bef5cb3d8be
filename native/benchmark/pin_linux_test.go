//go:build linux

package benchmark

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

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
	// setAll gives every thread of the process cpus, again until every one
	// has them: a thread the runtime starts, while setAll goes through the
	// list, from one not yet changed keeps the old CPUs and is not in that
	// list (seen under qemu, where starting a thread is slow: as a thread on
	// 2 CPUs after the narrowing, and as TestRunGivesEveryThreadItsCPUsBack
	// failing after this test).
	setAll := func(cpus []int) {
		var set unix.CPUSet
		for _, c := range cpus {
			set.Set(c)
		}
		for range 100 {
			for _, tid := range threads(t) {
				if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
					t.Fatalf("sched_setaffinity %d: %v", tid, err)
				}
			}
			if len(notOn(cpus)) == 0 {
				return
			}
		}
		t.Errorf("threads %v are still not on CPUs %v after 100 rounds of setting them", notOn(cpus), cpus)
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
	for _, n := range notOn(want) {
		t.Errorf("thread %s may run on %d CPUs, want %v", filepath.Join("/proc/self/task", strconv.Itoa(n.tid)), n.count, want)
	}
}

// notOn lists the threads of this process whose CPUs are not exactly want,
// with how many CPUs each may run on.
func notOn(want []int) []struct{ tid, count int } {
	ents, _ := os.ReadDir("/proc/self/task")
	var out []struct{ tid, count int }
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
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
			out = append(out, struct{ tid, count int }{tid, set.Count()})
		}
	}
	return out
}

// BenchmarkCPUSpeedOverTime shows why the CPU-bound rates are measured on
// every CPU over the whole second: every 250 ms for 10 s it times a fixed
// piece of arithmetic by the thread's CPU time on each allowed CPU in turn,
// and reports how much slower than its fastest the slowest sample was
// (slowest-x), the share of samples more than 20 % slower than the fastest
// (slow-%), and the longest run of consecutive slow samples on one CPU
// (slow-stretch-s). On a machine whose CPUs keep their speed these are about
// 1, 0 and 0.
func BenchmarkCPUSpeedOverTime(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpus := allowedCPUs()
	defer restoreCPUs(cpus)
	work := func() uint64 {
		x := uint64(1)
		for range 200_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		return x
	}
	const every, samples = 250 * time.Millisecond, 40
	for b.Loop() {
		took := map[int][]time.Duration{}
		var sink uint64
		for range samples {
			for _, c := range cpus {
				if err := pinTo(c); err != nil {
					b.Fatal(err)
				}
				var best time.Duration
				for i := range 5 { // the least of five: a sample, not an interruption
					c0, _, _ := threadCPU()
					sink += work()
					c1, _, _ := threadCPU()
					if i == 0 || c1-c0 < best {
						best = c1 - c0
					}
				}
				took[c] = append(took[c], best)
			}
			time.Sleep(every)
		}
		fastest, slowest := time.Duration(math.MaxInt64), time.Duration(0)
		for _, ts := range took {
			for _, t := range ts {
				fastest, slowest = min(fastest, t), max(slowest, t)
			}
		}
		slow, n, stretch := 0, 0, 0
		for _, ts := range took {
			run := 0
			for _, t := range ts {
				n++
				if float64(t) > 1.2*float64(fastest) {
					slow++
					run++
					stretch = max(stretch, run)
				} else {
					run = 0
				}
			}
		}
		b.ReportMetric(float64(slowest)/float64(fastest), "slowest-x")
		b.ReportMetric(100*float64(slow)/float64(n), "slow-%")
		b.ReportMetric(float64(stretch)*every.Seconds(), "slow-stretch-s")
		if sink == 42 {
			b.Log(sink) // keeps the arithmetic from being optimised away
		}
	}
}
