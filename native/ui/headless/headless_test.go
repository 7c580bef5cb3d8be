package headless

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// runInstall runs a real install (measurements from a file) into a
// temporary directory, watched by an Observer in mode.
func runInstall(t *testing.T, mode Mode) (out, term string, res *install.Result) {
	t.Helper()
	var o, tm bytes.Buffer
	obs := NewObserver(mode, &o, &tm)
	res, err := install.Run(context.Background(), install.Options{
		Dir: t.TempDir(), Vesselinfo: "../../assets/vesselinfo.sample", Percent: 10,
		Measured: "../../install/testdata/measured.json", GOARCH: "amd64",
		KeyBits: seattlekey.MinBits, // the key's size is not what these tests check
	}, obs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.String(), tm.String(), res
}

func TestPlainLines(t *testing.T) {
	out, term, _ := runInstall(t, Plain)
	if term != "" {
		t.Errorf("plain mode wrote to the terminal: %q", term)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, want := range []string{"[  0%] vesselinfo: reading", "[  5%] vesselinfo: done (4 vessels)", "benchmark: reading the measurements", "write: moved vesseldict into place", "[100%] log: done"} {
		if !strings.Contains(out, want) {
			t.Errorf("no line has %q:\n%s", want, out)
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "[") {
			t.Errorf("line without a percentage: %q", l)
		}
	}
}

func TestJSONLines(t *testing.T) {
	out, term, res := runInstall(t, JSON)
	if term != "" {
		t.Errorf("JSON mode wrote to the terminal: %q", term)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var kinds []string
	var last map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		kinds = append(kinds, m["kind"].(string))
		last = m
	}
	firstPhase := ""
	for _, k := range kinds {
		if k != "log" {
			firstPhase = k
			break
		}
	}
	if firstPhase != "started" || last["kind"] != "finished" {
		t.Errorf("kinds %v", kinds)
	}
	result := last["result"].(map[string]any)
	if result["OK"] != true || result["Dir"] != res.Dir {
		t.Errorf("the finished event's result is %v", result)
	}
	joined := strings.Join(kinds, " ")
	for _, k := range []string{"measured", "planned", "log", "progress", "done"} {
		if !strings.Contains(joined, k) {
			t.Errorf("no %s event: %v", k, kinds)
		}
	}
}

func TestSilentWritesNothing(t *testing.T) {
	out, term, res := runInstall(t, Silent)
	if out != "" || term != "" || !res.OK {
		t.Errorf("silent mode wrote %q and %q", out, term)
	}
}

func TestBarDrawsOnTheTerminalOnly(t *testing.T) {
	out, term, _ := runInstall(t, Bar)
	if out != "" {
		t.Errorf("bar mode wrote to standard output: %q", out)
	}
	if !strings.Contains(term, "%") || !strings.Contains(term, "write") {
		t.Errorf("the terminal shows no progress: %q", term)
	}
}

func TestChooseMode(t *testing.T) {
	var b bytes.Buffer
	for _, tc := range []struct {
		json, silent bool
		want         Mode
	}{{true, false, JSON}, {true, true, JSON}, {false, true, Silent}, {false, false, Plain}} {
		if got := ChooseMode(tc.json, tc.silent, &b); got != tc.want {
			t.Errorf("ChooseMode(%v, %v, buffer) = %v, want %v", tc.json, tc.silent, got, tc.want)
		}
	}
}

func TestNoTerminalNoPrompter(t *testing.T) {
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if p := NewPrompter(r, w, nil); p != nil {
		t.Errorf("pipes got a prompter %T; nobody can answer there", p)
	}
}

func question() install.Prompt {
	return install.Prompt{ID: "p1", Question: "Continue with defaults?", Choices: []string{"continue", "cancel"}, Default: "cancel"}
}

func TestTerminalAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		reasks         int
	}{
		{"yes", "yes\n", "continue", 0},
		{"y_in_capitals", "Y\n", "continue", 0},
		{"no", "no\n", "cancel", 0},
		{"n_with_blanks", "  n  \n", "cancel", 0},
		{"asks_again_until_clear", "maybe\n\nYES\n", "continue", 2},
		{"end_of_input_is_no", "", "cancel", 0},
		{"end_of_input_after_junk_is_no", "perhaps", "cancel", 1},
		{"crlf", "yes\r\n", "continue", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			suspended := false
			term := &Terminal{In: strings.NewReader(tc.in), Out: &out, Suspend: func() { suspended = true }}
			got, err := term.Ask(context.Background(), question())
			if err != nil || got != tc.want {
				t.Fatalf("Ask = %q, %v; want %q", got, err, tc.want)
			}
			if !strings.HasPrefix(out.String(), "Continue with defaults? [yes/no] ") {
				t.Errorf("printed %q", out.String())
			}
			if n := strings.Count(out.String(), "Please enter either yes or no"); n != tc.reasks && !(tc.name == "end_of_input_after_junk_is_no" && n == 0) {
				t.Errorf("asked again %d times, want %d", n, tc.reasks)
			}
			if !suspended {
				t.Error("the progress bar was not suspended before asking")
			}
		})
	}
}

func TestTerminalCancelled(t *testing.T) {
	r, w := io.Pipe() // nobody ever answers
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	got, err := (&Terminal{In: r, Out: io.Discard}).Ask(ctx, question())
	if err != context.DeadlineExceeded {
		t.Fatalf("Ask = %q, %v; want the context's error", got, err)
	}
}

func TestWritePlanGolden(t *testing.T) {
	_, _, res := runInstall(t, Silent)
	var b bytes.Buffer
	if err := WritePlan(&b, res.Plan); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "plan.golden")
	if *update {
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("the plan differs from testdata/plan.golden (go test -update rewrites it):\n%s", b.String())
	}
}

func TestAbbreviate(t *testing.T) {
	for key, want := range map[string]string{
		"123456789123 123456789123456789123456789": "1234…6789",
		"3 21":          "21",
		"5 123456789":   "123456789",
		"5 1234567890":  "1234…7890",
		"justonenumber": "just…mber",
	} {
		if got := Abbreviate(key); got != want {
			t.Errorf("Abbreviate(%q) = %q, want %q", key, got, want)
		}
	}
}
