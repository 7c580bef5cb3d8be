package headless

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/seattletestbed/seattle-installer/native/install"
)

// NewPrompter returns a Terminal when the donor can be asked: standard
// input and standard error are both terminals. Otherwise it returns nil,
// which install.Run takes as nobody to ask (each question gets its
// Default, so a failed benchmark stops the install unless --yes was given).
// suspend, if not nil, is called before asking (to clear a progress bar).
func NewPrompter(stdin io.Reader, stderr io.Writer, suspend func()) install.Prompter {
	if IsTerminal(stdin) && IsTerminal(stderr) {
		return &Terminal{In: stdin, Out: stderr, Suspend: suspend}
	}
	return nil
}

// Terminal asks yes/no questions on a terminal, as the original did: yes or
// y, no or n, in any case; anything else asks again; end of input is no.
type Terminal struct {
	In      io.Reader
	Out     io.Writer
	Suspend func()

	lines chan lineOrErr // one reader goroutine for the life of the Terminal
}

type lineOrErr struct {
	line string
	err  error
}

// Ask prints the question and waits for an answer or for ctx to end.
func (t *Terminal) Ask(ctx context.Context, p install.Prompt) (string, error) {
	if len(p.Choices) < 2 {
		return "", errors.New("a yes/no question needs two choices")
	}
	if t.Suspend != nil {
		t.Suspend()
	}
	if t.lines == nil {
		// Reading stdin cannot be interrupted, so it happens in a goroutine
		// and a cancelled install simply stops waiting for it.
		t.lines = make(chan lineOrErr)
		go func() {
			sc := bufio.NewScanner(t.In)
			for sc.Scan() {
				t.lines <- lineOrErr{line: sc.Text()}
			}
			err := sc.Err()
			if err == nil {
				err = io.EOF
			}
			for {
				t.lines <- lineOrErr{err: err}
			}
		}()
	}
	hint, blank := "[yes/no]", ""
	if p.Kind == install.PromptConfirm {
		// The plan, then the question: an empty answer installs, as the
		// capital Y says.
		if p.Plan != nil {
			fmt.Fprintln(t.Out)
			WritePlan(t.Out, p.Plan)
			fmt.Fprintln(t.Out)
		}
		if len(p.Failures) > 0 {
			WriteFailures(t.Out, p.Failures, p.Plan)
		}
		hint, blank = "[Y/n]", p.Default
	}
	fmt.Fprintf(t.Out, "%s %s ", p.Question, hint)
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(t.Out)
			return "", ctx.Err()
		case l := <-t.lines:
			if l.err != nil {
				fmt.Fprintln(t.Out)
				return p.Choices[1], nil
			}
			switch answer := strings.ToLower(strings.TrimSpace(l.line)); {
			case answer == "" && blank != "":
				return blank, nil
			case answer == "yes" || answer == "y":
				return p.Choices[0], nil
			case answer == "no" || answer == "n":
				return p.Choices[1], nil
			}
			fmt.Fprint(t.Out, "Please enter either yes or no: ")
		}
	}
}
