// Package cli is the command dispatch the project's programs share
// (seattle-installer and seattle-builder): a program is a set of commands,
// each with its flags; the programs' main packages stay thin and keep only
// their commands.
//
// The exit codes are the same everywhere, so that scripts can rely on them.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes scripts can rely on.
const (
	ExitOK    = 0 // success
	ExitFail  = 1 // the job failed
	ExitUsage = 2 // bad flags or arguments, or a file that could not be read
)

// Program is a program made of commands. E is what a command may touch
// (its standard streams, for tests that run commands in process).
type Program[E any] struct {
	Name  string // as the user types it: "seattle-installer"
	About string // what the program does, a paragraph for --help
	// Default is the command run without arguments (a double-clicked
	// installer installs); "" makes no arguments a usage error.
	Default  string
	commands map[string]command[E]
}

type command[E any] struct {
	summary string
	run     func(ctx context.Context, e E, args []string) int
}

// Register adds a command; summary is its line in the command list. A
// name registered twice is a programming error.
func (p *Program[E]) Register(name, summary string, run func(ctx context.Context, e E, args []string) int) {
	if p.commands == nil {
		p.commands = map[string]command[E]{}
	}
	if _, dup := p.commands[name]; dup {
		panic("cli: command " + name + " registered twice")
	}
	p.commands[name] = command[E]{summary, run}
}

// Run runs the command args[0] names with the rest of args, and returns
// its exit code; --help (or help) prints the usage to stdout, no or an
// unknown command prints it to stderr with ExitUsage.
func (p *Program[E]) Run(ctx context.Context, e E, stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		if c, ok := p.commands[p.Default]; ok && p.Default != "" {
			return c.run(ctx, e, nil)
		}
		p.Usage(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		p.Usage(stdout)
		return ExitOK
	}
	c, ok := p.commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n", p.Name, args[0])
		p.Usage(stderr)
		return ExitUsage
	}
	return c.run(ctx, e, args[1:])
}

// Usage writes what the program does, its commands and its exit codes.
func (p *Program[E]) Usage(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nUsage:\n  %s COMMAND [flags]\n\nCommands:\n", strings.TrimSpace(p.About), p.Name)
	names := make([]string, 0, len(p.commands))
	for n := range p.commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, p.commands[n].summary)
	}
	fmt.Fprintf(&b, "\nRun \"%s COMMAND --help\" for the flags of a command.\n", p.Name)
	b.WriteString("Exit status: 0 success, 1 the job failed, 2 usage or I/O error.\n")
	io.WriteString(w, b.String())
}

// ParseFlags parses a command's flags. When it returns ok false the command
// ends with code: ExitOK after --help, ExitUsage after a bad flag (the flag
// package has already said what was wrong).
func ParseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	return 0, true
}
