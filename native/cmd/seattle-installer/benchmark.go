package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/resource"
)

func init() {
	program.Register("benchmark", "measure this machine's resources and print them (or save them as JSON)", runBenchmark)
}

// benchmarkTimeEnv shortens the benchmark for tests, as a Go duration
// ("300ms"): the end-to-end tests run it many times, on emulators too, and
// what they check does not depend on its length. Donors never set it.
const benchmarkTimeEnv = "SEATTLE_INSTALLER_TEST_BENCHMARK_TIME"

// keyBitsEnv changes the default of install --nm-key-bitsize for tests, to
// a size the flag accepts too (1024 to 16384 bits): a 2048-bit key pair
// takes 2 to 10 s to generate under qemu-arm (0.5 s at 1024 bits), and the
// end-to-end tests install hundreds of times, checking what the install
// writes, not the key's size. Donors never set it; the test of the default
// size unsets it.
const keyBitsEnv = "SEATTLE_INSTALLER_TEST_KEY_BITS"

func runBenchmark(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("benchmark", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dir := fs.String("dir", ".", "measure disk space and disk speed in `DIR`, where the install would go")
	asJSON := fs.Bool("json", false, "print only the measurements as JSON, the file `install --measured` reads")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: seattle-installer benchmark [--dir DIR] [--json]

Measures how much of each resource this machine (and its container, if it
runs in one) really has: processors, memory, free disk space, open files,
and the rates of secure random numbers, disk writes and reads, loopback
networking and logging. It takes about 3 seconds, writes a temporary file in
DIR (removed afterwards) and changes nothing else.

The install donates a share of these figures. A figure that could not be
measured is listed as a failure; the install then uses the default.

Save the figures once and reuse them, instead of measuring at every install:

  seattle-installer benchmark --json > measured.json
  seattle-installer install --measured measured.json

Exit status: 0 measured (failures, if any, are listed), 1 interrupted,
2 usage error or DIR unusable.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(e.stderr, "benchmark: unexpected argument %q (the directory goes after --dir)\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	if fi, err := os.Stat(*dir); err != nil {
		fmt.Fprintf(e.stderr, "benchmark: --dir: %v\n", err)
		return exitUsage
	} else if !fi.IsDir() {
		fmt.Fprintf(e.stderr, "benchmark: --dir %s is not a directory\n", *dir)
		return exitUsage
	}

	opts := benchmark.Options{Dir: *dir}
	if d, err := time.ParseDuration(os.Getenv(benchmarkTimeEnv)); err == nil && d > 0 {
		opts.Duration = d
	}
	// A bar only for a person watching a terminal; a log or a pipe gets
	// nothing it would have to filter out, and --json mode nothing at all.
	var bar *progressbar.ProgressBar
	if f, ok := e.stderr.(*os.File); ok && !*asJSON && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(1000,
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(50*time.Millisecond),
			progressbar.OptionSetDescription("measuring"),
		)
		opts.Progress = func(p benchmark.Progress) {
			bar.Describe(fmt.Sprintf("%-11s %-42s", p.Resource, p.Detail)) // fixed width: the bar stays put
			bar.Set(int(p.Fraction * 1000))
		}
	}
	rep, err := benchmark.Run(ctx, opts)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		why := err.Error()
		if ctx.Err() != nil {
			why = "interrupted"
		}
		fmt.Fprintf(e.stderr, "benchmark: stopped: %s; nothing measured is kept and the temporary file is removed\n", why)
		return exitFail
	}
	if *asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			fmt.Fprintf(e.stderr, "benchmark: %v\n", err)
			return exitFail
		}
		e.stdout.Write(append(b, '\n'))
		return exitOK
	}
	printTable(e.stdout, rep, *dir)
	return exitOK
}

// printTable writes the measurements for a person: one line per resource,
// then what failed (and the default the install would use) and the notes.
func printTable(w io.Writer, rep benchmark.Report, dir string) {
	_, failures := benchmark.Check(rep, runtime.GOARCH)
	failed := map[resource.Name]bool{}
	for _, f := range failures {
		failed[f.Resource] = true
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tMEASURED\tHOW")
	for _, n := range resource.All {
		v := rep.Resources[n]
		var shown string
		switch {
		case failed[n]:
			shown = "failed (default " + formatValue(n, resource.Default(n, runtime.GOARCH)) + ")"
		case v == nil:
			shown = "not measured (default " + formatValue(n, resource.Default(n, runtime.GOARCH)) + ")"
		default:
			shown = formatValue(n, *v)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", n, shown, benchmark.Method(n))
	}
	tw.Flush()
	if len(failures) > 0 {
		fmt.Fprintln(w, "\nFailures (the install uses the default for these and asks before going on):")
		for _, f := range failures {
			fmt.Fprintf(w, "  %s: %s\n", f.Resource, f.Error)
		}
	}
	if len(rep.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range rep.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	fmt.Fprintf(w, "\nMeasured in %.1f s in %s. To reuse these figures:\n  seattle-installer benchmark --json > measured.json\n  seattle-installer install --measured measured.json\n",
		float64(rep.ElapsedMS)/1000, dir)
}

// formatValue writes a value with its unit: cores, decimal bytes (as the
// node manager counts them), files, sockets, bytes per second.
func formatValue(n resource.Name, v float64) string {
	switch n {
	case resource.CPU:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if v == 1 {
			return s + " core"
		}
		return s + " cores"
	case resource.Memory, resource.DiskUsed:
		return siBytes(v, "B")
	case resource.FilesOpened:
		return strconv.FormatFloat(v, 'f', -1, 64) + " files"
	case resource.InSockets, resource.OutSockets:
		return strconv.FormatFloat(v, 'f', -1, 64) + " sockets"
	case resource.Events:
		return strconv.FormatFloat(v, 'f', -1, 64) + " threads"
	default:
		return siBytes(v, "B/s")
	}
}

// siBytes writes 23400000000 as "23.4 GB": decimal prefixes, one decimal.
func siBytes(v float64, unit string) string {
	prefixes := []string{"", "k", "M", "G", "T", "P"}
	i := 0
	for math.Abs(v) >= 1000 && i < len(prefixes)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(v, 'f', -1, 64) + " " + unit
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + " " + prefixes[i] + unit
}
