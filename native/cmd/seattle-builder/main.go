// Command seattle-builder serves the page and API that build custom
// installers: an operator uploads a vesselinfo file and donors download an
// installer per platform with that file inside. It is a program of its own so
// that the donor installers do not carry the server and its pages; `make
// dist` ships it beside them.
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
	exitOK    = cli.ExitOK    // success: served and stopped cleanly
	exitFail  = cli.ExitFail  // the job failed: the server failed
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
	Name: "seattle-builder",
	About: `seattle-builder builds custom Seattle installers: an operator uploads a
vesselinfo file, donors download an installer for their platform with it inside.`,
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
