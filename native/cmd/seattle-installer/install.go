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
	"github.com/seattletestbed/seattle-installer/native/nodeman"
	"github.com/seattletestbed/seattle-installer/native/ui/headless"
	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

func init() {
	program.Register("install", "donate a share of this machine: benchmark it and write the node's state (the default)", runInstall)
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
	var nm, repy []nodeman.Pref
	fs.Var(prefFlag{&nm, true}, "nm-ip", "restrict the node manager to the `IP` address (repeatable; in order with --nm-iface)")
	fs.Var(prefFlag{&nm, false}, "nm-iface", "restrict the node manager to the network interface `NAME` (repeatable)")
	fs.Var(prefFlag{&repy, true}, "repy-ip", "restrict the vessels to the `IP` address (repeatable; in order with --repy-iface)")
	fs.Var(prefFlag{&repy, false}, "repy-iface", "restrict the vessels to the network interface `NAME` (repeatable)")
	noOtherIPs := fs.Bool("repy-nootherips", false, "the vessels may use no addresses but those of --repy-ip and --repy-iface")
	var repyPrepend wordsFlag
	fs.Var(&repyPrepend, "repy-prepend", "`FILES` (separated by blanks) the node manager prepends to every vessel's program (repeatable)")
	onlyNetwork := fs.Bool("onlynetwork", false, "only write the network settings (--nm-*, --repy-*) into DIR/nodeman.cfg; install nothing else")
	keyBits := fs.Int("nm-key-bitsize", defaultKeyBits(), "size of the node's RSA key pair in `BITS`, at least 1024")
	noStartup := fs.Bool("disable-startup-script", false, "do not make the node start at boot")
	noStart := fs.Bool("no-start", false, "do not start the node when the install is done")
	startCmd := fs.String("start-command", "", "the `COMMAND` that starts the node, when the bundle ships no start_seattle.sh (.bat on Windows)")
	asJSON := fs.Bool("json", false, "with --ui none: print every event as a JSON line")
	silent := fs.Bool("s", false, "with --ui none: print nothing but errors")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: seattle-installer install [flags]

Makes this machine a Seattle node. It reads vesselinfo (which vessels this
node hosts, who owns them, and each one's share), measures the machine,
donates a share of it (10% unless --percent says otherwise) and divides
that between the vessels. On a terminal it then shows this plan and asks
"Install? [Y/n]" (--yes does not ask; --dry-run stops at the plan); only
then does it write the vessels' state into the install directory, together
with the node manager's configuration (DIR/nodeman.cfg, with the node's new
RSA keys and your network settings), all or nothing. Then it makes the node
start at boot (a systemd unit, a crontab @reboot line, a macOS LaunchAgent or
the Windows Run key) and starts it now, with start_seattle.sh from the bundle
or --start-command. A log of every step ends up in DIR/installInfo.old (then
.new, 1 MiB each); if the install fails it stays in
DIR/installer_benchmark.log for you to send to whoever gave you the
installer, together with vesselinfo.

Examples:
  seattle-installer install                       # everything beside the installer
  seattle-installer install --dir /tmp/node --vesselinfo my-vesselinfo --percent 20
  seattle-installer install --measured bench.json --dry-run   # show the plan only
  seattle-installer install --nm-iface eth0 --repy-ip 10.0.0.5 --repy-nootherips
  seattle-installer install --no-start --disable-startup-script   # configure only
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
	if *keyBits < seattlekey.MinBits || *keyBits > maxKeyBits {
		fmt.Fprintf(e.stderr, "install: --nm-key-bitsize %d: a key has at least %d and at most %d bits\n", *keyBits, seattlekey.MinBits, maxKeyBits)
		return exitUsage
	}
	settings := nodeman.Settings{NM: nm, Repy: repy, RepyNoOtherIPs: *noOtherIPs, RepyPrepend: repyPrepend, RepyPrependDir: *prepend}
	if err := settings.Check(); err != nil {
		fmt.Fprintf(e.stderr, "install: %s\n", strings.ReplaceAll(err.Error(), "\n", "\ninstall: "))
		return exitUsage
	}
	var startCommand []string
	if *startCmd != "" {
		words, err := splitCommand(*startCmd)
		if err != nil || len(words) == 0 {
			fmt.Fprintf(e.stderr, "install: --start-command %q: %v\n", *startCmd, err)
			return exitUsage
		}
		startCommand = words
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
		NM:             nm,
		Repy:           repy,
		RepyNoOtherIPs: *noOtherIPs,
		RepyPrepend:    repyPrepend,
		OnlyNetwork:    *onlyNetwork,
		KeyBits:        *keyBits,
		NoStartup:      *noStartup,
		NoStart:        *noStart,
		StartCommand:   startCommand,
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
	if res.Node != nil {
		for _, line := range res.Node.Summary {
			fmt.Fprintln(e.stdout, line)
		}
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

// prefFlag is --nm-ip, --nm-iface, --repy-ip and --repy-iface: each adds to
// a list shared with its partner, so the order given is kept.
type prefFlag struct {
	list *[]nodeman.Pref
	ip   bool
}

func (p prefFlag) String() string { return "" }

func (p prefFlag) Set(s string) error {
	*p.list = append(*p.list, nodeman.Pref{IP: p.ip, Value: s})
	return nil
}

// wordsFlag is --repy-prepend "A B": each use adds its blank-separated words.
type wordsFlag []string

func (w *wordsFlag) String() string { return strings.Join(*w, " ") }

func (w *wordsFlag) Set(s string) error {
	*w = append(*w, strings.Fields(s)...)
	return nil
}

// splitCommand splits --start-command into words as a POSIX shell would,
// for quotes and backslashes only: no variables, globs or pipes.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("a quote (') is not closed")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\\$`+"`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf(`a quote (") is not closed`)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("it names no program")
	}
	return words, nil
}

// maxKeyBits is the largest key install --nm-key-bitsize accepts.
const maxKeyBits = 16384

// defaultKeyBits is the default of --nm-key-bitsize: seattlekey.DefaultBits,
// or a size the tests give in keyBitsEnv (see there) that the flag would
// accept too.
func defaultKeyBits() int {
	if n, err := strconv.Atoi(os.Getenv(keyBitsEnv)); err == nil && n >= seattlekey.MinBits && n <= maxKeyBits {
		return n
	}
	return seattlekey.DefaultBits
}
