package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

func init() {
	register(&command{
		name:    "validate",
		summary: "check a vesselinfo file and list every error with its line",
		run:     runValidate,
	})
}

func runValidate(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON, exactly as the browser's validator returns it")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: seattle-installer validate [--json] FILE

Checks a vesselinfo file (FILE may be - for standard input) against every rule
and prints one "FILE:LINE: message" line per error.

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "validate: give exactly one FILE (or - for standard input)")
		fs.Usage()
		return exitUsage
	}
	name := fs.Arg(0)
	src, err := readInput(e, name, vesselinfo.MaxSize)
	if err != nil {
		fmt.Fprintf(e.stderr, "validate: %v\n", err)
		return exitUsage
	}
	res := vesselinfo.Validate(src)
	if *asJSON {
		e.stdout.Write(append(res.JSON(), '\n'))
	} else if res.Valid {
		fmt.Fprintf(e.stdout, "%s: valid: %s\n", displayName(name), summarize(res.Vessels))
	} else {
		for _, er := range res.Errors {
			fmt.Fprintf(e.stdout, "%s:%d: %s\n", displayName(name), er.Line, er.Message)
		}
	}
	if !res.Valid {
		return exitFail
	}
	return exitOK
}

// readInput reads a file, or standard input for "-", keeping at most limit+1
// bytes so an enormous input costs bounded memory; the validator reports a
// file over the limit as an error of its own.
func readInput(e *env, name string, limit int64) ([]byte, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s is a directory, not a vesselinfo file", name)
		}
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", displayName(name), err)
	}
	return b, nil
}

func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

func summarize(vs []vesselinfo.Vessel) string {
	users := 0
	for _, v := range vs {
		users += len(v.Users)
	}
	return fmt.Sprintf("%d vessel%s, %d user key%s", len(vs), plural(len(vs)), users, plural(users))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
