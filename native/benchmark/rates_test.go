package benchmark

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// cpuBound are the rates timed in turns.
var cpuBound = []resource.Name{resource.Random, resource.LoopSend, resource.LoopRecv, resource.LogRate}

// TestCPURatesTakeTurnsAndReportAllBytesOverAllTime checks the schedule the
// stability rests on: the CPU-bound rates' rounds alternate between the rates
// instead of running one rate's rounds back to back, and each reported
// figure is the bytes of its measured rounds over the time they took (the
// warm-up round left out).
func TestCPURatesTakeTurnsAndReportAllBytesOverAllTime(t *testing.T) {
	var rounds []round
	rep, err := run(context.Background(), Options{Dir: t.TempDir(), Duration: quick}, config{
		fail:  map[resource.Name]error{resource.FileWrite: errors.New("skipped"), resource.FileRead: errors.New("skipped")},
		trace: func(r round) { rounds = append(rounds, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	moved := map[resource.Name]int64{}
	took := map[resource.Name]time.Duration{}
	count := map[resource.Name]int{}
	for i, r := range rounds {
		if i > 0 && rounds[i-1].Name == r.Name {
			t.Errorf("rounds %d and %d both measure %s: the rates do not take turns", i-1, i, r.Name)
		}
		if r.N > 0 {
			moved[r.Name] += r.Moved
			took[r.Name] += r.Took
			count[r.Name]++
		}
	}
	for _, n := range cpuBound {
		got := rep.Resources[n]
		if got == nil {
			t.Fatalf("%s not measured: %v", n, rep.Failures)
		}
		// All the rounds, unless a busy machine cut them short and said so.
		if cut := strings.Contains(strings.Join(rep.Notes, "\n"), "rounds of"); count[n] != cpuRounds && !(cut && count[n] >= minRounds) {
			t.Errorf("%s: %d measured rounds, want %d (or at least %d with a note), notes %q", n, count[n], cpuRounds, minRounds, rep.Notes)
		}
		if want := math.Floor(float64(moved[n]) / took[n].Seconds()); *got != want {
			t.Errorf("%s = %v, want its rounds' %d bytes over %v = %v", n, *got, moved[n], took[n], want)
		}
	}
}

// TestOneCPURateFailingLeavesTheOthersMeasured: the rates share a step, but a
// failure of one (here the log, whose file cannot be created in /proc) is its
// own; the others are measured and nothing is reported for the whole step.
func TestOneCPURateFailingLeavesTheOthersMeasured(t *testing.T) {
	s := &session{dir: "/proc", duration: quick}
	defer s.cleanup()
	st := stepOf(resource.Random)
	vals, err := s.cpuRates(context.Background(), st)
	var some rateErrors
	if !errors.As(err, &some) || len(some) != 1 || some[resource.LogRate] == nil {
		t.Fatalf("err = %v, want only lograte's failure", err)
	}
	for i, n := range st.names {
		if n != resource.LogRate && !(vals[i] > 0) {
			t.Errorf("%s = %v, want measured", n, vals[i])
		}
	}
}

// TestSlowRoundsStopEarlyWithANote: when rounds take far longer than
// planned (a thread waiting for a busy CPU, a disk slow to answer), a rate
// step stops once it has minRounds measured rounds instead of running past
// the benchmark's 5 s, and the report says so.
func TestSlowRoundsStopEarlyWithANote(t *testing.T) {
	slow := func() (int, error) { time.Sleep(5 * time.Millisecond); return 1, nil }
	st := &step{names: []resource.Name{resource.Random, resource.LoopSend}, share: 1}

	s := &session{duration: 10 * time.Millisecond}
	probes := []*probe{{name: resource.Random, op: slow}, {name: resource.LoopSend, op: slow}}
	if err := s.inTurns(context.Background(), st, probes); err != nil {
		t.Fatal(err)
	}
	for _, p := range probes {
		if p.rounds != minRounds {
			t.Errorf("%s: %d measured rounds, want %d (stopped early)", p.name, p.rounds, minRounds)
		}
	}
	if notes := strings.Join(s.notes, "\n"); !strings.Contains(notes, "processors were so busy that 4 rounds of 12 were measured") {
		t.Errorf("notes: %q", notes)
	}

	s = &session{duration: 10 * time.Millisecond}
	v, err := rounder{s: s, st: st, name: resource.FileWrite, rounds: diskRounds, op: slow}.rate(context.Background())
	if err != nil || !(v > 0) {
		t.Fatalf("rate = %v, %v", v, err)
	}
	if notes := strings.Join(s.notes, "\n"); !strings.Contains(notes, "filewrite: the disk was so slow to answer that 4 rounds of 9 were measured") {
		t.Errorf("notes: %q", notes)
	}
}
