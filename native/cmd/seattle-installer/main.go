// Command seattle-installer turns a donor's machine into a Seattle node: it
// reads vesselinfo, benchmarks the machine, donates a share of it to the
// vessels and writes the node's state. It also validates vesselinfo files.
// The server that builds custom installers is a program of its own,
// seattle-builder, so that installers do not carry it.
//
// This package stays thin: flags, wiring and exit codes. Each subcommand lives
// in its own file and registers itself in init; the dispatch, --help and the
// exit codes are native/internal/cli's, shared with the other program.
package main

import (
	"context"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/seattletestbed/seattle-installer/native/internal/cli"
)

// Exit codes scripts can rely on.
const (
	exitOK    = cli.ExitOK    // success: valid, installed, served
	exitFail  = cli.ExitFail  // the job failed: invalid vesselinfo, install failed
	exitUsage = cli.ExitUsage // bad flags or arguments, or a file that could not be read
)

// env is what a command may touch, so tests can run commands in process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// program is the commands; each registers itself in its file's init.
var program = cli.Program[*env]{
	Name: "seattle-installer",
	About: `seattle-installer makes this machine a Seattle node: it donates a share of
the machine to the vessels (sandboxed VMs) that vesselinfo lists.`,
	Default: "install", // double-clicked: the installer's one job
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	return program.Run(ctx, e, e.stdout, e.stderr, args)
}

// parseFlags parses a command's flags; see cli.ParseFlags.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	return cli.ParseFlags(fs, args)
}
