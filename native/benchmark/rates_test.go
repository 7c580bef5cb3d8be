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

func TestQuantileInterpolatesBetweenRounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    []float64
		q    float64
		want float64
	}{
		{"lower quartile of five falls on the second", []float64{5, 1, 4, 2, 3}, 0.25, 2},
		{"lower quartile of four lies between the first two", []float64{4, 3, 2, 1}, 0.25, 1.75},
		{"median of an even count is the mean of the middle two", []float64{1, 2, 3, 10}, 0.5, 2.5},
		{"one round is its own quantile", []float64{7}, 0.25, 7},
		{"zero is the slowest", []float64{3, 1, 2}, 0, 1},
		{"one is the fastest", []float64{3, 1, 2}, 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quantile(tc.v, tc.q); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("quantile(%v, %v) = %v, want %v", tc.v, tc.q, got, tc.want)
			}
		})
	}
	if got := quantile(nil, 0.25); !math.IsNaN(got) {
		t.Errorf("quantile of no rounds = %v, want NaN (runStep turns it into a failure)", got)
	}
}

// cpuBound are the rates timed in turns.
var cpuBound = []resource.Name{resource.Random, resource.LoopSend, resource.LoopRecv, resource.LogRate}

// TestCPURatesTakeTurnsAndReportTheLowerQuartile checks the schedule the
// stability rests on: the CPU-bound rates' rounds alternate between the rates
// instead of running one rate's rounds back to back, and each reported
// figure is the lower quartile of its own measured rounds.
func TestCPURatesTakeTurnsAndReportTheLowerQuartile(t *testing.T) {
	var rounds []round
	rep, err := run(context.Background(), Options{Dir: t.TempDir(), Duration: quick}, config{
		fail:  map[resource.Name]error{resource.FileWrite: errors.New("skipped"), resource.FileRead: errors.New("skipped")},
		trace: func(r round) { rounds = append(rounds, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[resource.Name][]float64{}
	for i, r := range rounds {
		if i > 0 && rounds[i-1].Name == r.Name {
			t.Errorf("rounds %d and %d both measure %s: the rates do not take turns", i-1, i, r.Name)
		}
		if r.N > 0 {
			byName[r.Name] = append(byName[r.Name], r.Rate)
		}
	}
	for _, n := range cpuBound {
		got := rep.Resources[n]
		if got == nil {
			t.Fatalf("%s not measured: %v", n, rep.Failures)
		}
		if len(byName[n]) < minRounds {
			t.Errorf("%s: %d measured rounds, want at least %d", n, len(byName[n]), minRounds)
		}
		if want := math.Floor(quantile(byName[n], cpuQuantile)); *got != want {
			t.Errorf("%s = %v, want the lower quartile of its rounds %v (%v)", n, *got, want, byName[n])
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
		if len(p.rates) != minRounds {
			t.Errorf("%s: %d measured rounds, want %d (stopped early)", p.name, len(p.rates), minRounds)
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
