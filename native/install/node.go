package install

// After the vessels' state, the install finishes the node the way Seattle's
// installer does: nodeman.cfg with the donor's network settings and the
// node's new keys (written in the same commit as the state), then the node
// made to start at boot and started now. What it does after the commit is
// recorded (startup.RecordFile) before and after each step, so a rerun
// after a crash finishes it and uninstall takes back exactly that.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/seattletestbed/seattle-installer/native/assets"
	"github.com/seattletestbed/seattle-installer/native/atomicfile"
	"github.com/seattletestbed/seattle-installer/native/nodeman"
	"github.com/seattletestbed/seattle-installer/native/servicelog"
	"github.com/seattletestbed/seattle-installer/native/startup"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

// localSystem is the machine the node is registered on; tests replace it.
var localSystem = startup.Local

// ShippedConfigFile keeps, in the install directory, the nodeman.cfg that
// was there before the install replaced it, so uninstall can put it back.
const ShippedConfigFile = ".seattle-installer.nodeman.cfg.shipped"

// stopGrace is how long uninstall waits for the node to end after SIGTERM.
const stopGrace = 10 * time.Second

// StartScript is the start command a bundle ships in the install directory.
func StartScript() string {
	if runtime.GOOS == "windows" {
		return "start_seattle.bat"
	}
	return "start_seattle.sh"
}

// readRegular reads a small regular file without following a symbolic
// link; fs.ErrNotExist when it is absent.
func readRegular(p string, max int64) ([]byte, error) {
	before, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; it was not read", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if after, err := f.Stat(); err != nil || !os.SameFile(before, after) {
		return nil, fmt.Errorf("%s changed while it was opened", p)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, max)
	}
	return b, nil
}

// configInstalled reports whether dir's nodeman.cfg says installed, as the
// original checks before anything.
func configInstalled(dir string) bool {
	b, err := readRegular(filepath.Join(dir, nodeman.File), nodeman.MaxSize)
	if err != nil {
		return false
	}
	d, err := nodeman.Read(b)
	return err == nil && nodeman.Installed(d)
}

// baseConfig is the configuration to complete: the one shipped beside the
// installer (a Python literal; every key kept), else SPEC.md's defaults.
// The one already in the install directory is the base for --onlynetwork.
func (r *runner) baseConfig(dirs ...string) (*nodeman.Dict, string, error) {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, nodeman.File)
		b, err := readRegular(p, nodeman.MaxSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		cfg, err := nodeman.Read(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s is not a configuration the node manager can read: %w", p, err)
		}
		return cfg, p, nil
	}
	return nodeman.Defaults(), "the defaults (no " + nodeman.File + " ships beside the installer)", nil
}

func (r *runner) settings() nodeman.Settings {
	o := r.opts
	return nodeman.Settings{NM: o.NM, Repy: o.Repy, RepyNoOtherIPs: o.RepyNoOtherIPs, RepyPrepend: o.RepyPrepend, RepyPrependDir: o.RepyPrependDir}
}

// startSpec is what starts the node: --start-command, else the bundle's
// start script in the install directory; nil when there is neither.
func (r *runner) startSpec() (*startup.Spec, error) {
	dir := r.opts.Dir
	if len(r.opts.StartCommand) > 0 {
		prog := r.opts.StartCommand[0]
		var err error
		if !strings.ContainsAny(prog, `/\`) {
			prog, err = exec.LookPath(prog)
		} else {
			prog, err = filepath.Abs(prog)
		}
		if err != nil {
			return nil, fmt.Errorf("--start-command: %w", err)
		}
		return &startup.Spec{Dir: dir, Command: prog, Args: r.opts.StartCommand[1:]}, nil
	}
	p := filepath.Join(dir, StartScript())
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		return nil, nil
	}
	return &startup.Spec{Dir: dir, Command: p}, nil
}

// nodePlan is the record the commit writes: what to do after it.
func (r *runner) nodePlan(ctx context.Context) (*startup.Record, error) {
	spec, err := r.startSpec()
	if err != nil {
		return nil, err
	}
	rec := &startup.Record{Spec: spec}
	if spec != nil {
		if !r.opts.NoStartup {
			rec.Boot = localSystem().Choose(ctx)
		}
		rec.Start = !r.opts.NoStart
	}
	return rec, nil
}

// nodeFiles are the files the commit writes besides the vessels' state:
// the record first (so a nodeman.cfg of this install is never in place
// without it), nodeman.cfg with new keys, the shipped nodeman.cfg kept for
// uninstall, and resources.offcut.
func (r *runner) nodeFiles(ctx context.Context, rec *startup.Record) ([]state.File, error) {
	dir := r.opts.Dir
	cfg, origin, err := r.baseConfig(r.opts.AssetsDir)
	if err != nil {
		return nil, err
	}
	r.logf("Node manager configuration from %s", origin)
	bits := r.opts.KeyBits
	if bits == 0 {
		bits = seattlekey.DefaultBits
	}
	r.emit(Event{Kind: Progress, Phase: PhaseWrite, Detail: fmt.Sprintf("generating the node's %d-bit RSA key pair", bits)})
	keys, err := seattlekey.Generate(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	state.Checkpoint("generated the node's keys")
	s := r.settings()
	s.Keys, s.Installed = keys, true
	text, err := nodeman.Marshal(nodeman.Apply(cfg, s))
	if err != nil {
		return nil, err
	}
	// The keys are never logged: only that they exist.
	r.logf("Generated the node's %d-bit RSA key pair; it is stored in %s (readable by this user only)", bits, nodeman.File)
	r.logf("Network restrictions: node manager %s; vessels %s", prefText(s.NM, false), prefText(s.Repy, s.RepyNoOtherIPs))
	var files []state.File
	if rec.Spec != nil {
		recText, err := rec.Marshal()
		if err != nil {
			return nil, err
		}
		files = append(files, state.File{Name: startup.RecordFile, Data: recText})
	}
	if shipped, err := readRegular(filepath.Join(dir, nodeman.File), nodeman.MaxSize); err == nil {
		files = append(files, state.File{Name: ShippedConfigFile, Data: shipped})
	}
	files = append(files, state.File{Name: nodeman.File, Data: text, Mode: 0o600, Replace: true})
	offcut, origin, err := assets.Load(r.opts.AssetsDir, assets.OffcutFile)
	if err != nil {
		return nil, err
	}
	r.logf("%s from %s", assets.OffcutFile, origin)
	files = append(files, state.File{Name: assets.OffcutFile, Data: offcut, SameOK: true})
	return files, nil
}

func prefText(ps []nodeman.Pref, noOther bool) string {
	if len(ps) == 0 && !noOther {
		return "unrestricted"
	}
	var parts []string
	for _, p := range ps {
		if p.IP {
			parts = append(parts, "IP "+p.Value)
		} else {
			parts = append(parts, "interface "+p.Value)
		}
	}
	if noOther {
		parts = append(parts, "no other IPs")
	}
	return strings.Join(parts, ", ")
}

// finishNode does what the record says is still to do: start at boot,
// start now. Failures are reported, never fatal: the node is installed.
func (r *runner) finishNode(ctx context.Context, rec *startup.Record) *NodeStatus {
	dir := r.opts.Dir
	st := &NodeStatus{Config: filepath.Join(dir, nodeman.File), Log: filepath.Join(dir, startup.LogFile)}
	note := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		r.logf("%s", line)
		if err := servicelog.Log(dir, line); err != nil {
			r.emit(Event{Kind: LogLine, Detail: "warning: the service log: " + err.Error()})
		}
	}
	save := func() {
		if err := startup.WriteRecord(dir, rec); err != nil {
			st.Notes = append(st.Notes, "The record of what the install did could not be saved ("+err.Error()+"); uninstall may not find the start at boot or the running node.")
		}
	}
	sys := localSystem()
	switch {
	case rec.Spec == nil:
		st.NoBoot = fmt.Sprintf("no node program is bundled (no %s in %s, and no --start-command)", StartScript(), dir)
		st.NotRun = st.NoBoot
		note("No node program is bundled (no %s in %s and no --start-command): the node is neither registered to start at boot nor started.", StartScript(), dir)
	default:
		if rec.Boot == "" {
			st.NoBoot = "--disable-startup-script was given"
		} else if !rec.BootDone {
			if rec.Registered != nil {
				// An interrupted registration: clear whatever part of it exists.
				sys.Unregister(ctx, *rec.Registered)
			}
			planned := sys.Plan(rec.Boot, *rec.Spec)
			rec.Registered = &planned
			save()
			state.Checkpoint("register the node to start at boot")
			reg, err := sys.Register(ctx, rec.Boot, *rec.Spec)
			if err != nil {
				rec.Registered = nil
				st.NoBoot = fmt.Sprintf("registering it failed (%v); to do it by hand, %s", err, sys.Manual(planned, *rec.Spec))
				note("Start at boot: %s", st.NoBoot)
			} else {
				rec.Registered = &reg
				note("Start at boot: registered %s", reg.Describe())
				if reg.Note != "" {
					note("Start at boot: %s", reg.Note)
				}
			}
			rec.BootDone = true
			save()
			state.Checkpoint("registered the node to start at boot")
		}
		if rec.Registered != nil {
			st.Boot = rec.Registered.Describe()
			if rec.Registered.Note != "" {
				st.Notes = append(st.Notes, sentence(rec.Registered.Note))
			}
		} else if st.NoBoot == "" && rec.Boot != "" {
			st.NoBoot = "registering it failed earlier; see the service log"
		}
		if !rec.Start {
			st.NotRun = "--no-start was given"
		} else if !rec.StartDone {
			state.Checkpoint("start the node")
			p, err := startup.Start(ctx, *rec.Spec)
			if err != nil {
				st.NotRun = err.Error()
				note("Starting the node failed: %v", err)
			} else {
				rec.Started = &p
				note("Started the node: %s (pid %d); its output goes to %s", rec.Spec.Command, p.PID, st.Log)
			}
			rec.StartDone = true
			save()
			state.Checkpoint("started the node")
		}
		if rec.Started != nil {
			if startup.Running(*rec.Started) {
				st.Running, st.PID = true, rec.Started.PID
			} else if st.NotRun == "" {
				st.NotRun = fmt.Sprintf("it was started (pid %d) but is not running now; its output is in %s", rec.Started.PID, st.Log)
			}
		} else if st.NotRun == "" && rec.Start {
			st.NotRun = "starting it failed earlier; see the service log"
		}
	}
	st.Summary = summary(st, dir)
	return st
}

// summary says in plain sentences what became of the node.
func summary(st *NodeStatus, dir string) []string {
	var out []string
	if st.Running {
		out = append(out, fmt.Sprintf("The node is running (pid %d); its output goes to %s.", st.PID, st.Log))
	} else {
		out = append(out, "The node is not running: "+strings.TrimSuffix(st.NotRun, ".")+".")
	}
	if st.Boot != "" {
		out = append(out, "It starts at boot through "+st.Boot+".")
	} else {
		out = append(out, "It does not start at boot: "+strings.TrimSuffix(st.NoBoot, ".")+".")
	}
	out = append(out, st.Notes...)
	out = append(out, "To stop it and remove the install: seattle-installer uninstall --dir "+dir)
	return out
}

// planNode says, for --dry-run, what would be registered and started.
func (r *runner) planNode(ctx context.Context) []string {
	rec, err := r.nodePlan(ctx)
	if err != nil {
		return []string{"The node could not be started: " + err.Error() + "."}
	}
	if rec.Spec == nil {
		return []string{fmt.Sprintf("No node program is bundled (no %s in %s and no --start-command), so nothing would be registered at boot or started.", StartScript(), r.opts.Dir)}
	}
	var out []string
	sys := localSystem()
	if rec.Boot != "" {
		p := sys.Plan(rec.Boot, *rec.Spec)
		line := "At boot it would be started through " + p.Describe()
		if p.Line != "" {
			line += ": " + p.Line
		}
		out = append(out, line+".")
	} else {
		out = append(out, "It would not be registered to start at boot (--disable-startup-script).")
	}
	cmd := append([]string{rec.Spec.Command}, rec.Spec.Args...)
	if rec.Start {
		out = append(out, fmt.Sprintf("It would be started now: %s, in %s, its output going to %s.", strings.Join(cmd, " "), rec.Spec.Dir, filepath.Join(rec.Spec.Dir, startup.LogFile)))
	} else {
		out = append(out, "It would not be started now (--no-start).")
	}
	return out
}

// onlyNetwork writes the network settings into the install directory's
// nodeman.cfg and nothing else, as the original's --onlynetwork did.
func (r *runner) onlyNetwork(res *Result) (*Result, error) {
	dir := r.opts.Dir
	cfg, origin, err := r.baseConfig(dir, r.opts.AssetsDir)
	if err != nil {
		out, rem := writeOutcome(err)
		return r.failure(PhaseWrite, res, err, out, rem)
	}
	text, err := nodeman.Marshal(nodeman.Apply(cfg, r.settings()))
	if err != nil {
		out, rem := writeOutcome(err)
		return r.failure(PhaseWrite, res, err, out, rem)
	}
	if r.opts.DryRun {
		res.OK, res.Outcome = true, OutcomePlanned
		res.Message = fmt.Sprintf("Dry run: %s would get the network settings (from %s); nothing was written.", filepath.Join(dir, nodeman.File), origin)
		return res, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		out, rem := writeOutcome(err)
		return r.failure(PhaseWrite, res, err, out, rem)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, nodeman.File), text, 0o600); err != nil {
		out, rem := writeOutcome(err)
		return r.failure(PhaseWrite, res, err, out, rem)
	}
	servicelog.Log(dir, "Network settings written to "+nodeman.File+" (--onlynetwork): node manager "+prefText(r.opts.NM, false)+"; vessels "+prefText(r.opts.Repy, r.opts.RepyNoOtherIPs))
	res.OK, res.Outcome = true, OutcomeInstalled
	res.Message = fmt.Sprintf("Wrote the network settings into %s (from %s); nothing else was installed (--onlynetwork).", filepath.Join(dir, nodeman.File), origin)
	return res, nil
}

// TakeBack is the first part of an uninstall: it stops the node the
// install started, removes its start at boot and puts back the nodeman.cfg
// the install replaced. It returns what it did, in words. The caller holds
// the directory's lock; state.Uninstall removes the files afterwards.
func TakeBack(ctx context.Context, dir string) ([]string, error) {
	var done []string
	rec, err := startup.ReadRecord(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("the record of the node's start: %w", err)
	default:
		if rec.Started != nil {
			state.Checkpoint("uninstall: stop the node")
			switch err := startup.Stop(*rec.Started, stopGrace); {
			case errors.Is(err, startup.ErrNotRunning):
				done = append(done, fmt.Sprintf("the node (pid %d) was not running", rec.Started.PID))
			case err != nil:
				return done, fmt.Errorf("stop the node (pid %d): %w", rec.Started.PID, err)
			default:
				done = append(done, fmt.Sprintf("stopped the node (pid %d)", rec.Started.PID))
			}
		}
		if rec.Registered != nil {
			state.Checkpoint("uninstall: remove the start at boot")
			if err := localSystem().Unregister(ctx, *rec.Registered); err != nil {
				return done, fmt.Errorf("remove the start at boot (%s): %w", rec.Registered.Describe(), err)
			}
			done = append(done, "removed the start at boot: "+rec.Registered.Describe())
		}
	}
	shipped := filepath.Join(dir, ShippedConfigFile)
	if st, err := os.Lstat(shipped); err == nil && st.Mode().IsRegular() {
		state.Checkpoint("uninstall: put back the shipped nodeman.cfg")
		if err := os.Rename(shipped, filepath.Join(dir, nodeman.File)); err != nil {
			return done, fmt.Errorf("put back the shipped %s: %w", nodeman.File, err)
		}
		done = append(done, "put back the "+nodeman.File+" that was there before the install")
	}
	return done, nil
}

// nodePending reports whether dir holds this installer's record with steps
// still to do: an install killed after its commit.
func nodePending(dir string) bool {
	rec, err := startup.ReadRecord(dir)
	return err == nil && rec.Pending()
}
