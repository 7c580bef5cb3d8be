package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/ui/headless"
)

func init() {
	register(&command{
		name:    "install",
		summary: "donate a share of this machine: benchmark it and write the node's state (the default)",
		run:     runInstall,
	})
}

// graphicalUIs run an install behind a page ("webview", "browser"); ui.go fills it in.
var graphicalUIs = map[string]func(ctx context.Context, e *env, opts install.Options, noOpen bool) int{}

// defaultUI picks the UI when --ui is not given; ui.go replaces it.
var defaultUI = func() string { return "none" }

// percentFlag is --percent: a number in (0, 100]; anything else is a usage
// error before anything happens.
type percentFlag float64

func (p *percentFlag) String() string { return strconv.FormatFloat(float64(*p), 'f', -1, 64) }

func (p *percentFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a number", s)
	case math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > 100:
		return fmt.Errorf("%s is not a percentage more than 0 and at most 100", s)
	}
	*p = percentFlag(v)
	return nil
}

func runInstall(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	beside := installerDir()
	dir := fs.String("dir", beside, "install `DIR`ectory: the node's state goes here")
	vinfo := fs.String("vesselinfo", filepath.Join(beside, "vesselinfo"), "the vesselinfo `FILE` that lists the vessels (it ships beside the installer)")
	percent := percentFlag(10)
	fs.Var(&percent, "percent", "share of this machine to donate, in `P`ercent: more than 0, at most 100")
	measured := fs.String("measured", "", "skip the benchmark and use the measurements in `FILE`, as `seattle-installer benchmark --json` writes them")
	yes := fs.Bool("yes", false, "do not ask: install the plan, with safe default values for any measurement that fails")
	prepend := fs.String("repy-prepend-dir", "", "copy the files of the security layer `DIR`ectory into every vessel")
	ui := fs.String("ui", "", "`MODE`: how to show the install: webview (a window), browser, or none (this terminal); default: "+defaultUI())
	noOpen := fs.Bool("no-open", false, "with --ui browser: print the page's address instead of opening a browser")
	dryRun := fs.Bool("dry-run", false, "show the plan (what each vessel gets) and stop: write nothing")
	asJSON := fs.Bool("json", false, "with --ui none: print every event as a JSON line")
	silent := fs.Bool("s", false, "with --ui none: print nothing but errors")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: seattle-installer install [flags]

Makes this machine a Seattle node. It reads vesselinfo (which vessels this
node hosts, who owns them, and each one's share), measures the machine,
donates a share of it (10% unless --percent says otherwise) and divides
that between the vessels. On a terminal it then shows this plan and asks
"Install? [Y/n]" (--yes does not ask; --dry-run stops at the plan); only
then does it write the vessels' state into the install directory, all or
nothing. A log of every step ends up in DIR/installInfo; if the install
fails it stays in DIR/installer_benchmark.log for you to send to whoever
gave you the installer, together with vesselinfo.

Examples:
  seattle-installer install                       # everything beside the installer
  seattle-installer install --dir /tmp/node --vesselinfo my-vesselinfo --percent 20
  seattle-installer install --measured bench.json --dry-run   # show the plan only
  seattle-installer uninstall --dir /tmp/node     # remove what an install wrote

Exit status: 0 installed (or planned, with --dry-run); 1 the install failed
(bad vesselinfo, insufficient resources, defaults declined, already
installed, a write failed); 2 usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "install: unexpected argument %q; every setting is a flag (see --help)\n", fs.Arg(0))
		return exitUsage
	}
	opts := install.Options{
		Dir:            *dir,
		Vesselinfo:     *vinfo,
		Percent:        float64(percent),
		Measured:       *measured,
		Yes:            *yes,
		RepyPrependDir: *prepend,
		DryRun:         *dryRun,
		AssetsDir:      beside,
	}
	mode := *ui
	if mode == "" {
		mode = defaultUI()
	}
	switch mode {
	case "none":
	case "webview", "browser":
		if *dryRun {
			break // a plan is text: the terminal shows it
		}
		gui, ok := graphicalUIs[mode]
		if !ok {
			fmt.Fprintf(e.stderr, "install: this build has no %s UI; use --ui %s or none\n", mode, map[string]string{"webview": "browser", "browser": "webview"}[mode])
			return exitUsage
		}
		return gui(ctx, e, opts, *noOpen)
	default:
		fmt.Fprintf(e.stderr, "install: --ui %q is not one of webview, browser, none\n", mode)
		return exitUsage
	}
	return installHeadless(ctx, e, opts, *asJSON, *silent)
}

// installHeadless runs the install on the terminal (--ui none).
func installHeadless(ctx context.Context, e *env, opts install.Options, asJSON, silent bool) int {
	m := headless.ChooseMode(asJSON, silent, e.stderr)
	obs := headless.NewObserver(m, e.stdout, e.stderr)
	ask := headless.NewPrompter(e.stdin, e.stderr, obs.Suspend)
	// On a terminal the donor sees the plan and answers "Install? [Y/n]"
	// before anything is written; --yes skips the question, --dry-run
	// stops at the plan, and without a terminal nobody can be asked.
	opts.Confirm = ask != nil && !opts.Yes && !opts.DryRun && (m == headless.Bar || m == headless.Plain)
	res, err := install.Run(ctx, opts, obs, ask)
	if err != nil {
		msg := err.Error()
		if res != nil && res.Message != "" {
			msg = headless.Explain(res)
		}
		fmt.Fprintf(e.stderr, "install: %s\n", msg)
		return exitFail
	}
	if m == headless.JSON || m == headless.Silent {
		return exitOK
	}
	if res.Plan != nil && !opts.Confirm {
		fmt.Fprintln(e.stdout)
		headless.WritePlan(e.stdout, res.Plan)
		fmt.Fprintln(e.stdout)
	}
	fmt.Fprintln(e.stdout, res.Message)
	if !res.DryRun && len(res.Files) > 0 {
		fmt.Fprintf(e.stdout, "The state is in %s; remove it with: seattle-installer uninstall --dir %s\n", res.Dir, res.Dir)
	}
	return exitOK
}

// installerDir is the directory of the installer program, where vesselinfo
// and the common files ship; "." when it cannot be found.
func installerDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "."
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return filepath.Dir(exe)
}
