// Command seattle-builder serves the page and API that build custom
// installers: an operator uploads a vesselinfo file and donors download an
// installer per platform with that file inside. It is a program of its own so
// that the donor installers do not carry the server and its pages; `make
// dist` ships it beside them.
//
// This package stays thin: flags, wiring and exit codes. Each subcommand lives
// in its own file and registers itself in init.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes scripts can rely on.
const (
	exitOK    = 0 // success: served and stopped cleanly
	exitFail  = 1 // the job failed: the server failed
	exitUsage = 2 // bad flags or arguments, or a file that could not be read
)

// env is what a command may touch, so tests can run commands in process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string // one line for the command list
	run     func(ctx context.Context, e *env, args []string) int
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(e.stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "seattle-builder: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

// parseFlags parses a command's flags. When it returns ok false the command
// ends with code: exitOK after --help, exitUsage after a bad flag (the flag
// package has already said what was wrong).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`seattle-builder builds custom Seattle installers: an operator uploads a
vesselinfo file, donors download an installer for their platform with it inside.

Usage:
  seattle-builder COMMAND [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].summary)
	}
	b.WriteString(`
Run "seattle-builder COMMAND --help" for the flags of a command.
Exit status: 0 success, 1 the job failed, 2 usage or I/O error.
`)
	io.WriteString(w, b.String())
}
