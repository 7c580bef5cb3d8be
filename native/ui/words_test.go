package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

// cliWords are what must never reach the donor's window: flags, command
// lines and Go's error text.
var cliWords = []string{"--", "seattle-installer ", "context canceled", "deadline exceeded", "vesseldict", "%!"}

func checkWords(t *testing.T, what string, w Words, cause error) {
	t.Helper()
	all := append([]string{w.Title, w.Text, w.Next}, w.Details...)
	for _, s := range all {
		for _, bad := range cliWords {
			if strings.Contains(s, bad) {
				t.Errorf("%s: the window would show %q, which contains %q", what, s, bad)
			}
		}
		if cause != nil && strings.Contains(s, cause.Error()) {
			t.Errorf("%s: the window would show the error text %q", what, cause)
		}
	}
	if w.Title == "" || w.Text == "" || len(w.Actions) == 0 {
		t.Errorf("%s: incomplete words %+v", what, w)
	}
	if w.Tone != ToneFailed && strings.Contains(strings.ToLower(w.Text+w.Next), "send the") {
		t.Errorf("%s: a %s ending asks the donor to send something: %+v", what, w.Tone, w)
	}
}

// TestWindowWordsSpeakToADonor words every outcome the install can have,
// with and without a kept log, and checks each for command-line words.
func TestWindowWordsSpeakToADonor(t *testing.T) {
	cause := fmt.Errorf("writing the state into /x failed: open /x/v1: permission denied (--dir): %w", context.Canceled)
	plan := &install.Plan{Percent: 10, Donated: resource.Values{resource.CPU: 0.2, resource.Memory: 2.5e9, resource.DiskUsed: 7.8e9}, Vessels: make([]install.VesselPlan, 4)}
	seen := map[string]install.Outcome{}
	for _, o := range install.Outcomes {
		for _, withLog := range []bool{false, true} {
			res := &install.Result{Outcome: o, Dir: "/home/donor/seattle", Phase: install.PhaseWrite, Cause: cause, Plan: plan,
				Problems: []string{"line 3: unknown label \"owner\""}, Insufficient: []resource.Name{resource.CPU, resource.FilesOpened},
				Failures: []benchmark.Failure{{Resource: resource.LoopSend, Error: "probe: context canceled"}}, Message: cause.Error()}
			res.OK = !o.Failed() && o != install.OutcomeCancelled && o != install.OutcomeDeclined
			if withLog {
				res.LogPath = "/home/donor/seattle/installer_benchmark.log"
				res.Left = []string{res.LogPath}
			}
			w := WindowWords(res, nil)
			checkWords(t, fmt.Sprintf("%s (log %v)", o, withLog), w, cause)
			if w.Outcome != o {
				t.Errorf("%s is worded as %s", o, w.Outcome)
			}
			if o.Failed() != (w.Tone == ToneFailed) && o != install.OutcomeInsufficient && o != install.OutcomeBusy && o != install.OutcomeBadPercent && o != install.OutcomeAlreadyInstalled {
				t.Errorf("%s has tone %s", o, w.Tone)
			}
			if prev, dup := seen[w.Title+w.Text]; dup && prev != o {
				t.Errorf("%s and %s read the same: %q", o, prev, w.Text)
			}
			seen[w.Title+w.Text] = o
		}
	}
	for _, o := range []install.Outcome{install.OutcomeCancelled, install.OutcomeDeclined} {
		if w := WindowWords(&install.Result{Outcome: o}, context.Canceled); w.Tone != ToneNeutral || !contains(w.Actions, ActionTryAgain) {
			t.Errorf("%s: tone %s actions %v, want neutral with Try again", o, w.Tone, w.Actions)
		}
	}
	if w := WindowWords(&install.Result{Outcome: install.OutcomeAlreadyInstalled, Dir: "/d"}, nil); w.Actions[0] != ActionUninstall {
		t.Errorf("an installed directory offers %v first, not Uninstall", w.Actions)
	}
	for _, k := range []install.PromptKind{install.PromptDefaults, install.PromptConfirm} {
		q := questionWords(install.Prompt{Kind: k, Question: "2 measurements failed (filewrite, loopsend). --yes", Failures: []benchmark.Failure{{Resource: resource.FileWrite}, {Resource: resource.LoopSend}}})
		checkWords(t, "question "+string(k), Words{Tone: ToneFailed, Title: "q", Text: q, Actions: []string{"x"}}, nil)
		if strings.Contains(q, "filewrite") || strings.Contains(q, "loopsend") {
			t.Errorf("the window asks %q, naming resources as the node manager does", q)
		}
	}
	for _, st := range []*install.NodeStatus{
		{Running: true, PID: 42, Log: "/d/node.log", Boot: "crontab", Notes: []string{"run: seattle-installer --start-command x"}},
		{NotRun: "--no-start was given", NoBoot: "exec: crontab: executable file not found in $PATH; add it by hand with crontab -e"},
		{NotRun: "context canceled", Boot: "systemd"},
	} {
		lines := nodeWords(st)
		checkWords(t, "node", Words{Tone: ToneFailed, Title: "n", Text: strings.Join(lines, " "), Actions: []string{"x"}}, nil)
		if len(lines) != 2 {
			t.Errorf("node %+v: %q", st, lines)
		}
	}
	dirFailure := WindowWords(&install.Result{Outcome: install.OutcomeFailed, Remedy: install.RemedyChooseDir, Dir: "/d", Phase: install.PhaseVesselinfo}, nil)
	if !strings.Contains(dirFailure.Text, "could not use the folder /d") || strings.Contains(dirFailure.Text, "vessels") {
		t.Errorf("a directory that cannot be used reads %q", dirFailure.Text)
	}
	if w := WindowWords(&install.Result{Outcome: install.OutcomeFailed, Remedy: install.RemedySendLog, Phase: install.PhaseWrite}, nil); strings.Contains(w.Next, "send the install log") {
		t.Errorf("without a log the window asks to send it: %q", w.Next)
	}
	checkWords(t, "cancelled before start", WindowWords(nil, ErrCancelled), nil)
	checkWords(t, "no result", WindowWords(nil, nil), nil)
}

// TestWindowWordsOfRealInstalls runs the install into the ways it really
// ends and words each result as the window would.
func TestWindowWordsOfRealInstalls(t *testing.T) {
	installed := t.TempDir()
	base := func(dir string) install.Options {
		return install.Options{Dir: dir, Vesselinfo: sample, Percent: 10, Measured: measured(t, t.TempDir(), false), GOARCH: "amd64", KeyBits: seattlekey.MinBits}
	}
	if _, err := install.Run(context.Background(), base(installed), nil, nil); err != nil {
		t.Fatal(err)
	}
	badVI := filepath.Join(t.TempDir(), "vesselinfo")
	os.WriteFile(badVI, []byte("Percent 40\nOwner 3 5\nowner 3 5\n"), 0o644)
	cancelled, stop := context.WithCancel(context.Background())
	stop()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		edit func(o *install.Options)
		want install.Outcome
	}{
		{"installed", context.Background(), func(o *install.Options) {}, install.OutcomeInstalled},
		{"already installed", context.Background(), func(o *install.Options) { o.Dir = installed }, install.OutcomeAlreadyInstalled},
		{"bad vesselinfo", context.Background(), func(o *install.Options) { o.Vesselinfo = badVI }, install.OutcomeBadVesselinfo},
		{"missing vesselinfo", context.Background(), func(o *install.Options) { o.Vesselinfo = "/nonexistent/vesselinfo" }, install.OutcomeBadVesselinfo},
		{"insufficient", context.Background(), func(o *install.Options) { o.Percent = 0.01 }, install.OutcomeInsufficient},
		{"declined", context.Background(), func(o *install.Options) { o.Measured = measured(t, t.TempDir(), true) }, install.OutcomeDeclined},
		{"bad measurements", context.Background(), func(o *install.Options) { o.Measured = "/nonexistent/m.json" }, install.OutcomeBadMeasurements},
		{"cancelled", cancelled, func(o *install.Options) { o.Measured = measured(t, t.TempDir(), true) }, install.OutcomeCancelled},
	} {
		o := base(t.TempDir())
		tc.edit(&o)
		res, err := install.Run(tc.ctx, o, nil, cancelAsk{})
		if res.Outcome != tc.want {
			t.Errorf("%s: outcome %q, want %q (%v)", tc.name, res.Outcome, tc.want, err)
		}
		w := WindowWords(res, err)
		checkWords(t, tc.name, w, res.Cause)
		m := resultMessage(res, err)
		for _, s := range append([]string{m.Title, m.Message, m.Next}, m.Details...) {
			for _, bad := range cliWords {
				if strings.Contains(s, bad) {
					t.Errorf("%s: the result message holds %q: %q", tc.name, bad, s)
				}
			}
		}
	}
}

// cancelAsk answers like a donor who waits for the cancel.
type cancelAsk struct{}

func (cancelAsk) Ask(ctx context.Context, _ install.Prompt) (string, error) {
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	return "cancel", nil
}

// TestPageTextSpeaksToADonor reads every string the donor page itself can
// show (its HTML text and the string literals of its script).
func TestPageTextSpeaksToADonor(t *testing.T) {
	literal := regexp.MustCompile(`'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"`)
	for _, f := range []string{"../../web/donor/donor.js", "../../web/donor/index.html"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts := literal.FindAllString(string(b), -1)
		if strings.HasSuffix(f, ".html") {
			texts = append(texts, regexp.MustCompile(`>([^<]+)<`).FindAllString(string(b), -1)...)
		}
		// A CSS custom property's name ('--vessel-') is never shown.
		cssName := regexp.MustCompile(`^['"]--[a-z-]+['"]$`)
		for _, s := range texts {
			for _, bad := range cliWords {
				if strings.Contains(s, bad) && !strings.Contains(s, "var(--") && !strings.HasPrefix(s, "<!--") && !cssName.MatchString(s) {
					t.Errorf("%s shows %s, which contains %q", filepath.Base(f), s, bad)
				}
			}
		}
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
