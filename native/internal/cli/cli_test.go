package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"strings"
	"testing"
)

// env records which command ran with which arguments.
type env struct{ ran []string }

func program(def string) *Program[*env] {
	p := &Program[*env]{Name: "prog", About: "prog does things.\n", Default: def}
	for _, n := range []string{"zeta", "alpha"} {
		p.Register(n, "the "+n+" command", func(_ context.Context, e *env, args []string) int {
			e.ran = append(append(e.ran, n), args...)
			if n == "zeta" {
				return ExitFail
			}
			return ExitOK
		})
	}
	return p
}

func TestRunDispatches(t *testing.T) {
	for _, tc := range []struct {
		name       string
		def        string
		args       []string
		code       int
		ran        string
		out, errs  string // expected in stdout, stderr
		noOut, noE bool
	}{
		{name: "a command with its arguments", args: []string{"alpha", "-x", "y"}, code: ExitOK, ran: "alpha -x y", noOut: true, noE: true},
		{name: "its exit code is the program's", args: []string{"zeta"}, code: ExitFail, ran: "zeta", noOut: true, noE: true},
		{name: "help to stdout", args: []string{"--help"}, code: ExitOK, out: "Commands:", noE: true},
		{name: "help word", args: []string{"help"}, code: ExitOK, out: "Exit status: 0 success", noE: true},
		{name: "no command", args: nil, code: ExitUsage, errs: "Usage:\n  prog COMMAND [flags]", noOut: true},
		{name: "no command runs the default", def: "alpha", args: nil, code: ExitOK, ran: "alpha", noOut: true, noE: true},
		{name: "unknown command", args: []string{"frob"}, code: ExitUsage, errs: `prog: unknown command "frob"`, noOut: true},
		{name: "a flag is not a command", args: []string{"-x"}, code: ExitUsage, errs: `unknown command "-x"`, noOut: true},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			var out, errs bytes.Buffer
			e := &env{}
			code := program(tc.def).Run(context.Background(), e, &out, &errs, tc.args)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if got := strings.Join(e.ran, " "); got != tc.ran {
				t.Errorf("ran %q, want %q", got, tc.ran)
			}
			if !strings.Contains(out.String(), tc.out) || (tc.noOut && out.Len() > 0) {
				t.Errorf("stdout %q, want %q in it", out.String(), tc.out)
			}
			if !strings.Contains(errs.String(), tc.errs) || (tc.noE && errs.Len() > 0) {
				t.Errorf("stderr %q, want %q in it", errs.String(), tc.errs)
			}
		})
	}
}

func TestUsageListsCommandsSorted(t *testing.T) {
	var b bytes.Buffer
	program("").Usage(&b)
	u := b.String()
	a, z := strings.Index(u, "  alpha      the alpha command\n"), strings.Index(u, "  zeta       the zeta command\n")
	if a < 0 || z < 0 || a > z {
		t.Errorf("usage does not list alpha then zeta, aligned:\n%s", u)
	}
	if !strings.HasPrefix(u, "prog does things.\n\nUsage:") || !strings.Contains(u, `Run "prog COMMAND --help"`) {
		t.Errorf("usage:\n%s", u)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a second alpha was accepted")
		}
	}()
	program("").Register("alpha", "again", nil)
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		ok   bool
	}{
		{[]string{"-n", "3"}, 0, true},
		{[]string{"--help"}, ExitOK, false},
		{[]string{"-nope"}, ExitUsage, false},
		{[]string{"-n", "x"}, ExitUsage, false},
	} {
		fs := flag.NewFlagSet("c", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("n", 0, "")
		code, ok := ParseFlags(fs, tc.args)
		if code != tc.code || ok != tc.ok {
			t.Errorf("ParseFlags(%q) = %d, %v; want %d, %v", tc.args, code, ok, tc.code, tc.ok)
		}
	}
}
