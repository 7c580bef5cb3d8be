package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"

	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/servicelog"
	"github.com/seattletestbed/seattle-installer/native/state"
)

func init() {
	program.Register("uninstall", "remove exactly what an install wrote, nothing else", runUninstall)
}

func runUninstall(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("uninstall", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dir := fs.String("dir", installerDir(), "the install `DIR`ectory")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: seattle-installer uninstall [--dir DIR]

First stops the node the install started and removes its start at boot
(the systemd unit, crontab line, LaunchAgent or Run registry value), and
puts back the nodeman.cfg the install replaced. Then removes what the
install wrote into DIR, as the manifest it left there (`+state.ManifestFile+`)
lists it: the vesseldict first, then the resource files, the files copied
into the vessel directories, the vessel directories, nodeman.cfg when the
install created it. Files added since (by the node manager or by programs
in the vessels) are kept, and so are the directories that hold them; the
command lists them. The service log (installInfo.old, .new) and the node's
output (start_seattle.log) stay, and the uninstall is logged there. An
install that was interrupted is undone or finished first.

Exit status: 0 removed; 1 nothing to remove or a removal failed (run it
again to finish); 2 usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "uninstall: unexpected argument %q; give the directory with --dir\n", fs.Arg(0))
		return exitUsage
	}
	if err := state.CheckDir(*dir); err != nil {
		fmt.Fprintf(e.stderr, "uninstall: %v.\n", err)
		return exitFail
	}
	// The lock first, before anything in the directory is looked at: an
	// install or another uninstall there makes this one fail at once.
	lock, err := state.LockDir(*dir)
	if errors.Is(err, iofs.ErrNotExist) {
		fmt.Fprintf(e.stderr, "uninstall: %s does not exist: nothing to remove. Is --dir right?\n", *dir)
		return exitFail
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "uninstall: %v; nothing was touched.\n", err)
		return exitFail
	}
	defer lock.Release()
	took, err := install.TakeBack(ctx, *dir)
	for _, s := range took {
		fmt.Fprintln(e.stdout, s)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "uninstall: %v. Nothing else was removed; fix the cause and run uninstall again.\n", err)
		return exitFail
	}
	u, err := state.Uninstall(*dir)
	if u != nil {
		for _, p := range u.Removed {
			fmt.Fprintf(e.stdout, "removed %s\n", p)
		}
		for _, p := range u.Kept {
			fmt.Fprintf(e.stdout, "kept %s\n", p)
		}
	}
	switch {
	case errors.Is(err, state.ErrKeptLinks):
		fmt.Fprintf(e.stderr, "uninstall: %v: the entries marked kept above were not removed, because something other than the install changed them and removing them could reach outside %s. Look at them, and remove them by hand if they are yours.\n", err, *dir)
		return exitFail
	case errors.Is(err, state.ErrNotInstalled):
		fmt.Fprintf(e.stderr, "uninstall: %s holds no install from this installer: nothing to remove. Is --dir right?\n", *dir)
		return exitFail
	case err != nil:
		fmt.Fprintf(e.stderr, "uninstall: %v. What was removed is listed above; fix the cause and run uninstall again to finish.\n", err)
		return exitFail
	}
	servicelog.Log(*dir, fmt.Sprintf("Uninstalled: %d files and directories removed, %d kept", len(u.Removed), len(u.Kept)))
	fmt.Fprintf(e.stdout, "Uninstalled from %s.\n", *dir)
	return exitOK
}
