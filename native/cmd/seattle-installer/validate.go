package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

func init() {
	program.Register("validate", "check a vesselinfo file and list every error with its line", runValidate)
}

const validateUsage = `Usage: seattle-installer validate [--json] FILE

Checks a vesselinfo file (FILE may be - for standard input) against every rule
and prints one "FILE:LINE: message" line per error, or one line saying it is
valid. The rules, in short:

  Percent 40                      starts a vessel: 10, 20, ... 100 percent
  Owner 65537 1234567...          exactly one owner key "e n" per vessel
  User 65537 7654321...           any number of user keys (up to 1000)

The percentages add up to 100; no empty lines, no comments; labels are
case-sensitive. Keys are pasted as their two numbers, not as file names.

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.

Examples:
  seattle-installer validate vesselinfo
  seattle-installer validate --json - < vesselinfo   # what the browser sees

Flags:
`

func runValidate(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print the result as one JSON object, exactly as the browser's validator returns it")
	help := func(w io.Writer) {
		fmt.Fprint(w, validateUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	short := func() {
		fmt.Fprintln(e.stderr, "usage: seattle-installer validate [--json] FILE   (--help explains)")
	}
	fs.Usage = func() {} // the flag package's message is enough; see below
	// Flags may come before or after FILE: "validate vesselinfo --json".
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help(e.stdout) // asked for: not an error
				return exitOK
			}
			short()
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(e.stderr, "validate: give exactly one FILE (or - for standard input), not %d\n", len(files))
		short()
		return exitUsage
	}
	name := files[0]
	src, err := readInput(e, name, vesselinfo.MaxSize)
	if err != nil {
		fmt.Fprintf(e.stderr, "validate: %v\n", err)
		return exitUsage
	}
	res := vesselinfo.Validate(src)
	var out []byte
	switch {
	case *asJSON:
		out = append(res.JSON(), '\n')
	case res.Valid:
		out = fmt.Appendf(nil, "%s: valid: %s\n", displayName(name), summarize(res.Vessels))
	default:
		for _, er := range res.Errors {
			out = fmt.Appendf(out, "%s:%d: %s\n", displayName(name), er.Line, er.Message)
		}
	}
	if _, err := e.stdout.Write(out); err != nil {
		fmt.Fprintf(e.stderr, "validate: write the result: %v\n", err)
		return exitUsage
	}
	if !res.Valid {
		return exitFail
	}
	return exitOK
}

// readInput reads a file, or standard input for "-", keeping at most limit+1
// bytes so that an enormous input costs bounded memory; the validator reports
// a file over the limit as an error of its own.
func readInput(e *env, name string, limit int64) ([]byte, error) {
	r := e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	size := int64(-1) // unknown: a pipe, a terminal
	if f, ok := r.(*os.File); ok {
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s is a directory, not a vesselinfo file", displayName(name))
		}
		if st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	b, err := readAtMost(r, limit+1, size)
	var pe *fs.PathError
	if err != nil && !errors.As(err, &pe) { // a file's errors name it already
		err = fmt.Errorf("read %s: %w", displayName(name), err)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// readAtMost reads up to n bytes of r, whose size is given when known.
// Memory: one buffer of min(size, n)+1 bytes for a file; for a pipe, a buffer
// doubled up to n+1, so at most about 2n bytes allocated in all.
func readAtMost(r io.Reader, n, size int64) ([]byte, error) {
	capacity := int64(64 << 10)
	if size >= 0 {
		capacity = size
	}
	// +1: room to see the end of the file without growing.
	b := make([]byte, 0, min(capacity, n)+1)
	lr := io.LimitReader(r, n)
	for {
		if len(b) == cap(b) {
			grown := make([]byte, len(b), min(2*int64(cap(b)), n+1))
			copy(grown, b)
			b = grown
		}
		m, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
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
