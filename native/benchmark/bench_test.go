package benchmark

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// rates are the resources measured as bytes/s, whose stability matters.
var rates = []resource.Name{resource.Random, resource.FileWrite, resource.FileRead, resource.LoopSend, resource.LoopRecv, resource.LogRate}

// BenchmarkStability runs the whole benchmark five times back to back, as a
// donor rerunning it would, and reports the median wall time and, for each
// rate, the coefficient of variation over the five runs in percent
// (cv%-NAME; the goal is at most 10).
func BenchmarkStability(b *testing.B) {
	const runs = 5
	dir := b.TempDir()
	for b.Loop() {
		vals := map[resource.Name][]float64{}
		var walls []float64
		for range runs {
			start := time.Now()
			rep, err := Run(context.Background(), Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			walls = append(walls, time.Since(start).Seconds())
			if len(rep.Failures) > 0 {
				b.Fatalf("failures: %v", rep.Failures)
			}
			for _, n := range rates {
				vals[n] = append(vals[n], *rep.Resources[n])
			}
		}
		b.ReportMetric(median(walls), "median-wall-s")
		for _, n := range rates {
			b.ReportMetric(100*cv(vals[n]), "cv%-"+string(n))
			b.ReportMetric(median(vals[n])/1e6, "MB/s-"+string(n))
		}
	}
}

// cv is the coefficient of variation: standard deviation over mean.
func cv(v []float64) float64 {
	var sum, sq float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	for _, x := range v {
		sq += (x - mean) * (x - mean)
	}
	return math.Sqrt(sq/float64(len(v))) / mean
}
