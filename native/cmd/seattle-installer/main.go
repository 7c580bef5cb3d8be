// Command seattle-installer turns a donor's machine into a Seattle node: it
// reads vesselinfo, benchmarks the machine, donates a share of it to the
// vessels and writes the node's state. It also validates vesselinfo files.
// The server that builds custom installers is a program of its own,
// seattle-builder, so that installers do not carry it.
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
	exitOK    = 0 // success: valid, installed, served
	exitFail  = 1 // the job failed: invalid vesselinfo, install failed
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
		if c, ok := commands["install"]; ok {
			// Double-clicked: the installer's one job.
			return c.run(ctx, e, nil)
		}
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
		fmt.Fprintf(e.stderr, "seattle-installer: unknown command %q\n\n", args[0])
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
	b.WriteString(`seattle-installer makes this machine a Seattle node: it donates a share of
the machine to the vessels (sandboxed VMs) that vesselinfo lists.

Usage:
  seattle-installer COMMAND [flags]

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
Run "seattle-installer COMMAND --help" for the flags of a command.
Exit status: 0 success, 1 the job failed, 2 usage or I/O error.
`)
	io.WriteString(w, b.String())
}
