package benchmark

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

// rates are the resources measured as bytes/s, whose stability matters.
var rates = []resource.Name{resource.Random, resource.FileWrite, resource.FileRead, resource.LoopSend, resource.LoopRecv, resource.LogRate}

// BenchmarkStability runs the whole benchmark five times back to back in one
// process and reports the median wall time and, for each rate, the
// coefficient of variation over the five runs in percent (cv%-NAME; the goal
// is at most 10). Separate processes, as a donor rerunning the installer
// starts, are what make bench-stability (scripts/bench-stability) measures.
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

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cv is the coefficient of variation: the sample standard deviation (n-1)
// over the mean, as scripts/bench-stability computes it for separate runs.
func cv(v []float64) float64 {
	var sum, sq float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	for _, x := range v {
		sq += (x - mean) * (x - mean)
	}
	return math.Sqrt(sq/float64(len(v)-1)) / mean
}

// BenchmarkDiskVsFio checks that the disk rates are conservative: it runs
// our filewrite and fileread probes and fio (the Debian package) with the
// same pattern in the same directory, five times, taking turns at going
// first, and reports ours divided by fio's (ratio-filewrite, ratio-fileread,
// the median of the five ratios: at most 1 plus noise). The pattern: an
// 8 MiB file written and synced first, then 4 KiB writes over it, each synced
// (O_DSYNC: fio --sync=dsync --overwrite=1), and 4 KiB reads that bypass the
// page cache (O_DIRECT: fio --direct=1), for a second each.
func BenchmarkDiskVsFio(b *testing.B) {
	fio, err := exec.LookPath("fio")
	if err != nil {
		b.Fatalf("fio is not installed (make deps installs the Debian package): %v", err)
	}
	dir := b.TempDir()
	const each = time.Second
	ourRates := func() (w, r float64) {
		s := &session{dir: dir, duration: time.Duration(float64(each) / stepOf(resource.FileWrite).share)}
		defer s.cleanup()
		wv, err := s.fileWrite(context.Background(), stepOf(resource.FileWrite))
		if err != nil {
			b.Fatal(err)
		}
		s.duration = time.Duration(float64(each) / stepOf(resource.FileRead).share)
		rv, err := s.fileRead(context.Background(), stepOf(resource.FileRead))
		if err != nil {
			b.Fatal(err)
		}
		return wv[0], rv[0]
	}
	fioRates := func() (w, r float64) {
		return runFio(b, fio, dir, "--rw=write", "--sync=dsync", "--overwrite=1"), runFio(b, fio, dir, "--rw=read", "--direct=1")
	}
	for b.Loop() {
		var ours, theirs, ratios [2][]float64 // [write, read]
		for i := range 5 {
			var ow, or, fw, fr float64
			if i%2 == 0 {
				ow, or = ourRates()
				fw, fr = fioRates()
			} else {
				fw, fr = fioRates()
				ow, or = ourRates()
			}
			ours[0], ours[1] = append(ours[0], ow), append(ours[1], or)
			theirs[0], theirs[1] = append(theirs[0], fw), append(theirs[1], fr)
			ratios[0], ratios[1] = append(ratios[0], ow/fw), append(ratios[1], or/fr)
		}
		for i, n := range []string{"filewrite", "fileread"} {
			b.ReportMetric(median(ours[i])/1e6, "MB/s-ours-"+n)
			b.ReportMetric(median(theirs[i])/1e6, "MB/s-fio-"+n)
			b.ReportMetric(median(ratios[i]), "ratio-"+n)
		}
	}
}

// runFio runs one fio job for a second over an 8 MiB file in dir and
// returns its bandwidth in bytes/s.
func runFio(b *testing.B, fio, dir string, args ...string) float64 {
	b.Helper()
	// fio would lay the file out itself and leave it unsynced, so its first
	// second of synced writes would also wait for those 8 MiB to reach the
	// disk; our probe syncs its file first. Give fio the same: a written,
	// synced file of the right size, which fio then uses as it is.
	file := filepath.Join(dir, "fio.data")
	defer os.Remove(file)
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.Write(incompressible(diskFile)); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	cmd := exec.Command(fio, append([]string{"--name=seattle", "--filename=" + file, "--size=8m", "--bs=4k",
		"--ioengine=psync", "--time_based", "--runtime=1", "--output-format=json"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("fio %v: %v", args, err)
	}
	var res struct {
		Jobs []struct {
			Read, Write struct {
				BW float64 `json:"bw_bytes"`
			}
		} `json:"jobs"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Jobs) != 1 {
		b.Fatalf("fio output: %v\n%s", err, out)
	}
	return res.Jobs[0].Read.BW + res.Jobs[0].Write.BW
}

func stepOf(n resource.Name) *step {
	for i := range steps {
		if steps[i].names[0] == n {
			return &steps[i]
		}
	}
	panic("no step measures " + n)
}
