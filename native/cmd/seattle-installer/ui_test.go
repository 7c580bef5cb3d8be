package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

const sampleVesselinfo = "../../assets/vesselinfo.sample"

// writeMeasured writes a `benchmark --json` file in which filewrite is
// invalid (negative), so the install must ask whether to go on.
func writeMeasured(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "measured.json")
	body := `{"resources":{"cpu":2,"memory":8000000000,"diskused":50000000000,"events":null,` +
		`"filesopened":1000,"insockets":1000,"outsockets":1000,"random":5000000,"filewrite":-5,` +
		`"fileread":90000000,"netrecv":null,"netsend":null,"lograte":null,"loopsend":null,"looprecv":null},` +
		`"failures":[],"notes":[],"elapsed_ms":1}`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// uiProcess is the real binary running a graphical install.
type uiProcess struct {
	cmd    *exec.Cmd
	url    string
	stdout *syncBuffer // what followed the UI: line
	stderr syncBuffer
	lines  chan string // the same, line by line
	done   chan error
}

// syncBuffer is a bytes.Buffer the reading goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLine waits for a line of stdout that starts with prefix.
func (p *uiProcess) waitLine(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("the installer ended before printing %q\nstdout: %s\nstderr: %s", prefix, p.stdout, &p.stderr)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %q line within %v\nstdout: %s\nstderr: %s", prefix, timeout, p.stdout, &p.stderr)
		}
	}
}

// startUI starts the binary with args and waits for it to print its
// "UI: URL" line.
func startUI(t *testing.T, env []string, args ...string) *uiProcess {
	t.Helper()
	return startUIOf(t, binPath, env, args...)
}

// startUIOf is startUI for the binary bin (the webview build, say).
func startUIOf(t *testing.T, bin string, env []string, args ...string) *uiProcess {
	t.Helper()
	p := &uiProcess{cmd: testbin.Command(context.Background(), bin, args...), stdout: &syncBuffer{}, lines: make(chan string, 1000), done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if !found {
				if u, ok := strings.CutPrefix(sc.Text(), "UI: "); ok {
					found = true
					lines <- u
					continue
				}
			}
			p.stdout.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default: // nobody waits for lines this far
			}
		}
		close(p.lines)
		if !found {
			close(lines)
		}
		p.done <- p.cmd.Wait()
	}()
	select {
	case u, ok := <-lines:
		if !ok {
			t.Fatalf("the installer ended without printing UI: URL\nstdout: %s\nstderr: %s", p.stdout, &p.stderr)
		}
		p.url = u
	case <-time.After(30 * time.Second):
		t.Fatalf("no UI: line within 30 s\nstderr: %s", &p.stderr)
	}
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *uiProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("the installer did not exit\nstdout: %s\nstderr: %s", p.stdout, &p.stderr)
	}
	return -1
}

// askAgain makes the page start without the review's consent to the safe
// defaults, as a page without the review would: the installer then asks,
// which holds the install at a question for the tests that need one.
const askAgain = `(() => { const s = WebSocket.prototype.send; WebSocket.prototype.send = function (d) { return s.call(this, d.replace('"defaults":true', '"defaults":false')); }; return true; })()`

func TestBrowserInstallEndToEnd(t *testing.T) {
	shots := chrometest.ScreenshotDir(t)
	dir := t.TempDir()
	node := filepath.Join(dir, "node")
	p := startUI(t, nil, "install", "--ui", "browser", "--no-open",
		"--measured", writeMeasured(t, dir), "--dir", node, "--vesselinfo", sampleVesselinfo)
	if !strings.HasPrefix(p.url, "http://127.0.0.1:") || !strings.Contains(p.url, "/#") {
		t.Fatalf("UI address %q is not http://127.0.0.1:PORT/#SECRET", p.url)
	}
	ctx := chrometest.New(t, 1024, 768)
	chrometest.Do(t, ctx, "open the page", chromedp.Navigate(p.url))

	// Before: the vessels, validated again by the page's own validator,
	// and the review: the machine measured, what the donor would give.
	chrometest.WaitFor(t, ctx, "the vessels", `document.body.dataset.vessels === 'valid'`, 20*time.Second)
	chrometest.WaitFor(t, ctx, "the review", `document.body.dataset.plan === 'ok'`, 20*time.Second)
	rows := chrometest.Eval[[]string](t, ctx, `[...document.querySelectorAll('#vessels tbody tr')].map(r => r.innerText.replace(/\s+/g, ' ').trim())`)
	if len(rows) != 4 || rows[0] != "v1 40 % 1234…6789 1" {
		t.Errorf("vessel rows %q, want v1..v4 with v1 at 40 %%, its owner's fingerprint and one user", rows)
	}
	// The whole key on demand.
	chrometest.Do(t, ctx, "show v1's key", chromedp.Click(chromedp.CSS("#vessels tbody tr td.key summary")))
	if got := chrometest.Text(t, ctx, "#vessels tbody tr td.key code"); got != "123456789123 123456789123456789123456789" {
		t.Errorf("v1's whole key shows as %q", got)
	}
	give := chrometest.Text(t, ctx, "#give")
	if !strings.HasPrefix(give, "You give 0.2 of a processor core,") || !strings.Contains(chrometest.Text(t, ctx, "#review-failures"), "File writing") {
		t.Errorf("the review says %q and lists %q as not measured", give, chrometest.Text(t, ctx, "#review-failures"))
	}
	if got := chrometest.Eval[string](t, ctx, `document.getElementById('percent').value`); got != "10" {
		t.Errorf("percent field %q, want the default 10", got)
	}
	if _, err := os.Stat(node); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists before Install was pressed", node)
	}
	chrometest.Screenshot(t, ctx, shots, "1-before")

	// The percentage is checked like the CLI checks it.
	for _, bad := range []string{"0", "101", "ten", "-5", "", "1e3", "0x10", "Infinity", "10 20", "NaN"} {
		chrometest.Eval[bool](t, ctx, `(() => { const i = document.getElementById('percent'); i.value = `+quoteJS(bad)+`; i.dispatchEvent(new Event('input')); document.getElementById('install').click(); return true; })()`)
		if msg := chrometest.Text(t, ctx, "#percent-error"); msg == "" {
			t.Errorf("percent %q was accepted", bad)
		}
	}
	chrometest.Screenshot(t, ctx, shots, "2-bad-percent")
	if chrometest.Eval[string](t, ctx, `document.body.dataset.stage`) != "before" {
		t.Fatal("a bad percentage started the install")
	}
	for _, good := range []string{"2e1", " 15 ", "12.5%", "100"} {
		msg := chrometest.Eval[string](t, ctx, `(() => { const i = document.getElementById('percent'); i.value = `+quoteJS(good)+`; i.dispatchEvent(new Event('input')); const ws = WebSocket.prototype.send; let sent = ''; WebSocket.prototype.send = function (d) { sent = d; }; document.getElementById('install').disabled = false; document.getElementById('install').click(); WebSocket.prototype.send = ws; return document.getElementById('percent-error').textContent + '|' + sent; })()`)
		if !strings.HasPrefix(msg, "|") || !strings.Contains(msg, `"type":"start"`) {
			t.Errorf("percent %q: %q, want no error and a start message", good, msg)
		}
	}
	// Those starts went nowhere; a reload gives a fresh page, which the
	// installer brings back to the review.
	chrometest.Do(t, ctx, "reload the page", chromedp.Reload())
	chrometest.WaitFor(t, ctx, "the review after the reload", `document.body.dataset.plan === 'ok'`, 20*time.Second)
	// Type a good one with the keyboard: the figures follow at once;
	// then press Enter in the field. The page is made to start as one
	// without the review would, so that the installer asks about the
	// failed measurement and the test can reload at the question.
	chrometest.Eval[bool](t, ctx, `(() => { document.getElementById('percent').value = ''; return true; })()`)
	chrometest.Do(t, ctx, "type 20", chromedp.SendKeys(chromedp.CSS("#percent"), "20"))
	chrometest.WaitFor(t, ctx, "the figures for 20 %", `document.getElementById('give').textContent.startsWith('You give 0.4 of a processor core')`, 10*time.Second)
	chrometest.Eval[bool](t, ctx, askAgain)
	chrometest.Do(t, ctx, "press Enter", chromedp.SendKeys(chromedp.CSS("#percent"), "\r"))

	// During: the benchmark failed for filewrite, so the page asks.
	chrometest.WaitFor(t, ctx, "the question", `document.getElementById('prompt').open`, 20*time.Second)
	q := chrometest.Text(t, ctx, "#prompt-question")
	if !strings.Contains(q, "File writing") || !strings.Contains(strings.ToLower(q), "default") {
		t.Errorf("question %q does not name the failed measurement and the defaults", q)
	}
	if f := chrometest.Text(t, ctx, "#prompt-failures"); !strings.Contains(f, "File writing") {
		t.Errorf("the dialog lists %q, not the failed file writes", f)
	}
	if got := chrometest.Eval[string](t, ctx, `document.activeElement.dataset.choice || ''`); got != "continue" {
		t.Errorf("focus in the dialog is on %q, want the continue button (keyboard)", got)
	}
	chrometest.Screenshot(t, ctx, shots, "3-prompt")

	// A reload resumes: the page replays everything and asks again.
	chrometest.Do(t, ctx, "reload the page", chromedp.Reload())
	chrometest.WaitFor(t, ctx, "the question after the reload", `document.getElementById('prompt').open`, 20*time.Second)
	if got := chrometest.Eval[int](t, ctx, `document.querySelectorAll('#resource-rows tr').length`); got != 15 {
		t.Errorf("after the reload the page shows %d measured resources, want 15", got)
	}
	if got := chrometest.Text(t, ctx, "#status"); got != "Installing: you give 20 % of this computer" {
		t.Errorf("status after the reload %q", got)
	}
	chrometest.Do(t, ctx, "answer continue", chromedp.Click(chromedp.CSS(`#prompt button[data-choice="continue"]`)))

	// After: progress at 100 %, the summary, the picture of the plan.
	chrometest.WaitFor(t, ctx, "the result", `document.body.dataset.result === 'ok'`, 30*time.Second)
	if got := chrometest.Text(t, ctx, "#overall"); got != "100%" {
		t.Errorf("progress shows %q at the end, want 100%%", got)
	}
	if got := chrometest.Text(t, ctx, "#summary-message"); !strings.Contains(got, "This computer now hosts 4 vessels") {
		t.Errorf("summary %q", got)
	}
	// What became of the node, in the window's words: no command line
	// (the Uninstall button stands for it; the terminal prints it).
	nodeLines := chrometest.Text(t, ctx, "#node-summary")
	for _, s := range []string{"Seattle is not running.", "It does not start by itself when this computer starts."} {
		if !strings.Contains(nodeLines, s) {
			t.Errorf("the window's summary lacks %q:\n%s", s, nodeLines)
		}
	}
	if strings.Contains(nodeLines, "--") || strings.Contains(nodeLines, "seattle-installer ") {
		t.Errorf("the window's summary speaks the command line:\n%s", nodeLines)
	}
	if got := chrometest.Text(t, ctx, "#vessels-created"); got != "4 created: v1, v2, v3, v4" {
		t.Errorf("vessels created %q", got)
	}
	if got := chrometest.Text(t, ctx, "#state-path"); got != node {
		t.Errorf("state path %q, want %s", got, node)
	}
	if got := chrometest.Text(t, ctx, "#log-path"); !strings.HasPrefix(got, node) {
		t.Errorf("log path %q is not in %s", got, node)
	}
	if got := chrometest.Eval[int](t, ctx, `document.querySelectorAll('#resource-rows tr').length`); got != 15 {
		t.Errorf("%d measured resources shown, want 15", got)
	}
	if got := chrometest.Text(t, ctx, "#resource-rows"); !strings.Contains(got, "8 GB") || !strings.Contains(got, "failed: default") {
		t.Errorf("the measured table lacks 8 GB of memory or the failed file writes: %q", got)
	}
	if got := chrometest.Eval[int](t, ctx, `document.querySelectorAll('#chart svg rect').length`); got != 15*5 {
		t.Errorf("%d bars in the plan picture, want 15 resources x (4 vessels + cost)", got)
	}
	chrometest.NoOverflow(t, ctx, "after at 1024x768")
	chrometest.Screenshot(t, ctx, shots, "4-after")
	chrometest.Do(t, ctx, "shrink to 640x480", chromedp.EmulateViewport(640, 480))
	chrometest.NoOverflow(t, ctx, "after at 640x480")
	chrometest.Screenshot(t, ctx, shots, "5-after-640x480")

	if code := p.wait(t); code != exitOK {
		t.Errorf("exit %d, want 0\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
	}
	if !strings.Contains(p.stdout.String(), "Installed 4 vessels") {
		t.Errorf("stdout lacks the outcome: %s", p.stdout)
	}
	for _, f := range []string{"vesseldict", "resource.v1", "resource.v4", "v1"} {
		if _, err := os.Stat(filepath.Join(node, f)); err != nil {
			t.Errorf("state on disk: %v", err)
		}
	}
	if strings.Contains(p.stderr.String(), p.url[strings.Index(p.url, "#")+1:]) {
		t.Error("the secret appears on stderr")
	}
}

func TestBrowserPageRefusesABrokenVesselinfo(t *testing.T) {
	shots := chrometest.ScreenshotDir(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "vesselinfo")
	os.WriteFile(bad, []byte("Percent 50\nOwner 3 21\nUser keyfile.publickey\nPercent 30\nOwner 5 33\n"), 0o644)
	node := filepath.Join(dir, "node")
	p := startUI(t, nil, "install", "--ui", "browser", "--no-open", "--measured", writeMeasured(t, dir), "--dir", node, "--vesselinfo", bad)
	ctx := chrometest.New(t, 800, 600)
	chrometest.Do(t, ctx, "open the page", chromedp.Navigate(p.url))
	chrometest.WaitFor(t, ctx, "the verdict", `document.body.dataset.vessels === 'invalid'`, 20*time.Second)
	errs := chrometest.Text(t, ctx, "#vessel-error-list")
	if !strings.Contains(errs, "line 3") || !strings.Contains(errs, "100") {
		t.Errorf("errors shown: %q; want line 3's file name and the sum", errs)
	}
	if !chrometest.Eval[bool](t, ctx, `document.getElementById('install').disabled`) {
		t.Error("Install is enabled for a broken vesselinfo")
	}
	if chrometest.Eval[bool](t, ctx, `!document.getElementById('start-form').hidden`) {
		t.Error("the percentage form is offered for a broken vesselinfo")
	}
	chrometest.NoOverflow(t, ctx, "broken vesselinfo")
	chrometest.Screenshot(t, ctx, shots, "broken-vesselinfo")
	// The donor closes the installer from the page, with the keyboard.
	chrometest.Do(t, ctx, "press Close the installer",
		chromedp.Focus(chromedp.CSS("#quit")), chromedp.KeyEvent("\r"))
	chrometest.WaitFor(t, ctx, "the result", `document.body.dataset.result === 'neutral'`, 20*time.Second)
	if got := chrometest.Text(t, ctx, "#summary-message"); !strings.Contains(got, "cancelled before it started") {
		t.Errorf("summary %q", got)
	}
	chrometest.Screenshot(t, ctx, shots, "broken-vesselinfo-closed")
	if code := p.wait(t); code != exitFail {
		t.Errorf("exit %d after the donor closed it, want 1\nstderr: %s", code, &p.stderr)
	}
	if _, err := os.Stat(node); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s was created", node)
	}
}

func TestBrowserModeEndsOnInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		// os.Process.Signal(os.Interrupt) is not implemented on Windows:
		// Ctrl-C reaches a console's processes, not one chosen by another.
		t.Skip("Go cannot send Ctrl-C to another process on Windows")
	}
	dir := t.TempDir()
	node := filepath.Join(dir, "node")
	p := startUI(t, nil, "install", "--ui", "browser", "--no-open", "--measured", writeMeasured(t, dir), "--dir", node, "--vesselinfo", sampleVesselinfo)
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != exitFail {
		t.Errorf("exit %d after an interrupt, want 1\nstderr: %s", code, &p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "cancelled before it started") {
		t.Errorf("stderr does not say what happened: %s", &p.stderr)
	}
	if _, err := os.Stat(node); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s was created", node)
	}
}

func TestUIFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		code int
		in   string
	}{
		{"unknown mode", []string{"install", "--ui", "tv"}, nil, exitUsage, `--ui "tv" is not one of`},
		{"help names the modes", []string{"install", "--help"}, nil, exitOK, "webview (a window), browser, or none"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			_ = dir
			r := runBinary(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.in) {
				t.Errorf("exit %d, output %s%s; want %d and %q", r.code, r.stdout, r.stderr, tc.code, tc.in)
			}
		})
	}
}

func quoteJS(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

func TestBrowserDeclineShowsTheLog(t *testing.T) {
	shots := chrometest.ScreenshotDir(t)
	dir := t.TempDir()
	node := filepath.Join(dir, "node")
	p := startUI(t, nil, "install", "--ui", "browser", "--no-open",
		"--measured", writeMeasured(t, dir), "--dir", node, "--vesselinfo", sampleVesselinfo)
	ctx := chrometest.New(t, 640, 480)
	chrometest.Do(t, ctx, "open the page", chromedp.Navigate(p.url))
	chrometest.WaitFor(t, ctx, "the review", `document.body.dataset.plan === 'ok'`, 20*time.Second)
	chrometest.Eval[bool](t, ctx, askAgain)
	chrometest.Do(t, ctx, "press Install", chromedp.Click(chromedp.CSS("#install")))
	chrometest.WaitFor(t, ctx, "the question", `document.getElementById('prompt').open`, 20*time.Second)
	chrometest.NoOverflow(t, ctx, "the question at 640x480")
	chrometest.Screenshot(t, ctx, shots, "decline-1-prompt-640x480")
	chrometest.Do(t, ctx, "answer cancel", chromedp.Click(chromedp.CSS(`#prompt button[data-choice="cancel"]`)))
	// The donor's choice: neutral, not a failure to report.
	chrometest.WaitFor(t, ctx, "the result", `document.body.dataset.result === 'neutral'`, 20*time.Second)
	if chrometest.Eval[bool](t, ctx, `document.getElementById('prompt').open`) {
		t.Error("the dialog is still open after the answer")
	}
	logPath := chrometest.Text(t, ctx, "#log-path")
	if _, err := os.Stat(logPath); err != nil {
		t.Errorf("the page names the log %q, which is not there: %v", logPath, err)
	}
	if got := chrometest.Text(t, ctx, "#after"); strings.Contains(got, "send") || !strings.Contains(got, "You chose not to install") {
		t.Errorf("a decline reads %q: it says what the donor chose and asks to send nothing", got)
	}
	chrometest.NoOverflow(t, ctx, "failure at 640x480")
	chrometest.Screenshot(t, ctx, shots, "decline-2-result-640x480")
	if code := p.wait(t); code != exitFail {
		t.Errorf("exit %d, want 1", code)
	}
	if _, err := os.Stat(filepath.Join(node, "vesseldict")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a declined install wrote a vesseldict (%v)", err)
	}
}

// msg is the part of a host message the tests look at; with readUntil it
// serves the browser tests and the window tests (cgo builds only) alike.
type msg struct {
	Type    string `json:"type"`
	Role    string `json:"role"`
	ID      string `json:"id"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// readUntil reads host messages up to one of type typ.
func readUntil(t *testing.T, ws *websocket.Conn, typ string) msg {
	t.Helper()
	for {
		ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == typ {
			return m
		}
		if m.Type == "result" {
			t.Fatalf("the install ended before a %s: %s", typ, b)
		}
	}
}
