//go:build linux

package main

// The install window against another local user and a second page: the
// attacks of issue 9 (items 4 and 5), against the real binary.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/gorilla/websocket"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

// scanReport is what testdata/procscan prints.
type scanReport struct {
	UID            int               `json:"uid"`
	Cmdlines       int               `json:"cmdlines"`
	Environs       int               `json:"environs"`
	EnvironsDenied int               `json:"environsDenied"`
	Seen           map[string]string `json:"seen"`
	Files          map[string]string `json:"files"`
	Words          []string          `json:"words"`
	Tried          int               `json:"tried"`
	Statuses       map[string]int    `json:"statuses"`
	Accepted       []string          `json:"accepted"`
	Role           string            `json:"role"`
	Replies        []string          `json:"replies"`
}

// otherUser builds testdata/procscan into a directory another user may
// enter and returns a function that runs it as nobody (setpriv, from
// util-linux) with args.
func otherUser(t *testing.T) func(args ...string) scanReport {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attacker runs as nobody through setpriv (CI runs as root)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv is missing (util-linux): %v", err)
	}
	dir, err := os.MkdirTemp("", "procscan-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "procscan")
	build := exec.Command("go", "build", "-o", bin, "./testdata/procscan")
	// For this machine, whatever platform the installer under test is for:
	// the attacker is a native program.
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=", "GOARCH=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build procscan: %v\n%s", err, out)
	}
	return func(args ...string) scanReport {
		t.Helper()
		cmd := exec.Command("setpriv", append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}, args...)...)
		cmd.Dir = "/"
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("procscan as nobody: %v\n%s", err, &stderr)
		}
		var r scanReport
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("procscan said %q: %v", out.Bytes(), err)
		}
		if r.UID != 65534 {
			t.Fatalf("procscan ran as uid %d, not nobody", r.UID)
		}
		return r
	}
}

// fakeBrowser writes a launcher script that xdg-open runs as $BROWSER: it
// records what it was given in the file it returns, then waits until
// release exists, so its command line, and xdg-open's, can be read in the
// meantime. It returns the environment that makes xdg-open use it.
func fakeBrowser(t *testing.T) (env []string, launched, release string) {
	t.Helper()
	if _, err := exec.LookPath("xdg-open"); err != nil {
		t.Fatalf("xdg-open is missing (xdg-utils): %v", err)
	}
	dir, err := os.MkdirTemp("", "launcher-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	private := t.TempDir()
	launched, release = filepath.Join(private, "launched"), filepath.Join(private, "release")
	t.Cleanup(func() { os.WriteFile(release, nil, 0o600) }) // let it go, whatever happened
	script := filepath.Join(dir, "launcher")
	body := fmt.Sprintf(`#!/bin/sh
# The browser, as far as xdg-open knows.
printf '%%s\n' "$@" > %[1]s.tmp && mv %[1]s.tmp %[1]s
i=0
while [ ! -e %[2]s ] && [ -d %[3]s ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
`, launched, release, private)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	mailcap := filepath.Join(private, "mailcap")
	os.WriteFile(mailcap, nil, 0o644)
	// No desktop, no display: xdg-open's generic path, which ends in
	// $BROWSER (an empty MAILCAPS keeps run-mailcap, if installed, out).
	env = []string{"BROWSER=" + script, "DISPLAY=", "WAYLAND_DISPLAY=", "XDG_CURRENT_DESKTOP=",
		"DESKTOP_SESSION=", "KDE_FULL_SESSION=", "GNOME_DESKTOP_SESSION_ID=", "MAILCAPS=" + mailcap}
	return env, launched, release
}

func waitFile(t *testing.T, path string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(path); err == nil {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// secretOf is the secret in the UI: address.
func secretOf(t *testing.T, uiURL string) (host, secret string) {
	t.Helper()
	u, err := url.Parse(uiURL)
	if err != nil || len(u.Fragment) < 22 {
		t.Fatalf("UI address %q does not hold a secret (%v)", uiURL, err)
	}
	return u.Host, u.Fragment
}

var launchRE = regexp.MustCompile(`url=(http://127\.0\.0\.1:[0-9]+/#launch=([A-Za-z0-9_-]+))"`)

func TestAnotherUserCannotTakeTheBrowserWindow(t *testing.T) {
	asNobody := otherUser(t)
	env, launched, release := fakeBrowser(t)
	dir := t.TempDir()
	node := filepath.Join(dir, "node")
	p := startUI(t, env, "install", "--ui", "browser",
		"--measured", writeMeasured(t, dir), "--dir", node, "--vesselinfo", sampleVesselinfo)
	host, secret := secretOf(t, p.url)
	port := strings.TrimPrefix(host, "127.0.0.1:")

	// The browser has been started (xdg-open ran the launcher) and is
	// still starting: now the other user looks at every process.
	arg := strings.TrimSpace(waitFile(t, launched, 30*time.Second))
	r := asNobody("-port", port, "-watch", "xdg-open,launcher")
	t.Logf("as nobody: %d command lines and %d environments read (%d refused), %d words tried: %v",
		r.Cmdlines, r.Environs, r.EnvironsDenied, r.Tried, r.Statuses)

	// The scan saw the launch: xdg-open's command line and the browser's.
	var sawXdgOpen, sawLauncher bool
	for _, line := range r.Seen {
		sawXdgOpen = sawXdgOpen || strings.Contains(line, "xdg-open "+arg)
		sawLauncher = sawLauncher || strings.Contains(line, "launcher "+arg)
	}
	if !sawXdgOpen || !sawLauncher {
		t.Fatalf("the scan did not see xdg-open and the launcher with %q (it saw %q): it proves nothing", arg, r.Seen)
	}
	if r.Tried == 0 || r.Statuses["403"] == 0 {
		t.Fatalf("the scan tried nothing against the bridge: %+v", r.Statuses)
	}
	if len(r.Accepted) != 0 {
		t.Fatalf("nobody connected to the bridge with %q, found on the command lines %q", r.Accepted, r.Seen)
	}
	// What the launcher was given names a file nobody else may read.
	fu, err := url.Parse(arg)
	if err != nil || fu.Scheme != "file" {
		t.Fatalf("the browser was given %q, want a file:// address", arg)
	}
	if e := r.Files[fu.Path]; !strings.Contains(e, "permission denied") {
		t.Errorf("nobody reading %s: %q, want permission denied", fu.Path, e)
	}
	page, err := os.ReadFile(fu.Path)
	if err != nil {
		t.Fatal(err)
	}
	m := launchRE.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("the launch page does not send the browser to a launch address:\n%s", page)
	}
	launchURL, token := m[1], m[2]
	for _, w := range r.Words {
		if strings.Contains(w, secret) || strings.Contains(w, token) {
			t.Errorf("nobody found a credential on a command line or in an environment: %q", w)
		}
	}
	if _, err := os.Stat(node); err == nil {
		t.Fatal("the install started while nobody attacked")
	}

	// The donor's browser opens what it was given and lands on the page,
	// in control; the file and the address bar keep no credential.
	os.WriteFile(release, nil, 0o600)
	shots := chrometest.ScreenshotDir(t)
	ctx := chrometest.New(t, 1024, 768)
	chrometest.Do(t, ctx, "open the launch file", chromedp.Navigate(arg))
	waitLocation(t, ctx, "http://"+host+"/")
	chrometest.WaitFor(t, ctx, "the page in control", `document.body.dataset.role === 'control' && document.body.dataset.vessels === 'valid'`, 20*time.Second)
	if got := chrometest.Eval[string](t, ctx, `location.href`); got != "http://"+host+"/" {
		t.Errorf("the address bar shows %q, want http://%s/ without the token", got, host)
	}
	p.waitLine(t, "Page connected.", 10*time.Second)

	// The launch address again (history, a second click on the file):
	// refused, by the bridge and in a page.
	d := websocket.Dialer{Subprotocols: []string{bridge.Subprotocol, "launch." + token}}
	if _, resp, err := d.Dial("ws://"+host+"/bridge", http.Header{"Origin": {"http://" + host}}); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("a replayed launch token: %v (%v), want 403", err, resp)
	}
	other := chrometest.New(t, 800, 600)
	chrometest.Do(t, other, "open the launch address again", chromedp.Navigate(launchURL))
	chrometest.WaitFor(t, other, "the refusal", `document.getElementById('status').textContent === 'This address was used already'`, 20*time.Second)
	if chrometest.Eval[bool](t, other, `!document.getElementById('before').hidden`) {
		t.Error("a replayed launch address shows the install")
	}
	chrometest.Screenshot(t, other, shots, "window-launch-replayed")

	// Even with the secret itself (the printed address leaked), the other
	// user only watches: start, answer, cancel and handover are refused.
	r = asNobody("-port", port, "-try", secret)
	if len(r.Accepted) != 1 || r.Role != bridge.RoleView {
		t.Fatalf("nobody with the secret: accepted %q, role %q; want a watching page", r.Accepted, r.Role)
	}
	if len(r.Replies) != 4 {
		t.Errorf("nobody's start, answer, cancel and handover got %q, want four refusals", r.Replies)
	}
	p.waitLine(t, "Another page opened the install", 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(node); err == nil {
		t.Fatal("a watching page started the install")
	}
	if chrometest.Eval[string](t, ctx, `document.body.dataset.role`) != "control" {
		t.Fatal("the donor's page lost control")
	}

	// The donor installs.
	chrometest.WaitFor(t, ctx, "the review", `document.body.dataset.plan === 'ok'`, 20*time.Second)
	chrometest.Eval[bool](t, ctx, askAgain)
	chrometest.Do(t, ctx, "press Install", chromedp.Click(chromedp.CSS("#install")))
	chrometest.WaitFor(t, ctx, "the question", `document.getElementById('prompt').open`, 20*time.Second)
	chrometest.Do(t, ctx, "answer continue", chromedp.Click(chromedp.CSS(`#prompt button[data-choice="continue"]`)))
	chrometest.WaitFor(t, ctx, "the result", `document.body.dataset.result === 'ok'`, 30*time.Second)
	if code := p.wait(t); code != exitOK {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
	}
	// Nothing the install wrote, nor its output, holds the secret; the
	// launch file is gone.
	filepath.Walk(node, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(token)) {
				t.Errorf("%s holds a credential", path)
			}
		}
		return nil
	})
	if strings.Contains(p.stdout.String()+p.stderr.String(), token) || strings.Contains(p.stderr.String(), secret) {
		t.Error("the installer printed a credential beyond its UI: line")
	}
	if _, err := os.Stat(filepath.Dir(fu.Path)); !os.IsNotExist(err) {
		t.Errorf("the launch directory %s is left behind (%v)", filepath.Dir(fu.Path), err)
	}
}

// waitLocation waits until the tab's address is want (a redirect may replace
// the document under chromedp's feet meanwhile).
func waitLocation(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && loc == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tab is at %q (%v), want %s", loc, err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSecondPageNeedsConsentInChromium(t *testing.T) {
	shots := chrometest.ScreenshotDir(t)
	dir := t.TempDir()
	node := filepath.Join(dir, "node")
	p := startUI(t, nil, "install", "--ui", "browser", "--no-open",
		"--measured", writeMeasured(t, dir), "--dir", node, "--vesselinfo", sampleVesselinfo)
	host, secret := secretOf(t, p.url)
	first := chrometest.New(t, 800, 700)
	chrometest.Do(t, first, "open the page", chromedp.Navigate(p.url))
	chrometest.WaitFor(t, first, "the first page in control", `document.body.dataset.role === 'control' && document.body.dataset.vessels === 'valid'`, 20*time.Second)

	// A second page (another tab) only watches.
	second, cancel := chromedp.NewContext(first)
	defer cancel()
	chrometest.Do(t, second, "open the page in a second tab", chromedp.Navigate(p.url))
	chrometest.WaitFor(t, second, "the second page watching", `document.body.dataset.role === 'view' && document.body.dataset.vessels === 'valid'`, 20*time.Second)
	for _, id := range []string{"install", "percent"} {
		if !chrometest.Eval[bool](t, second, `document.getElementById('`+id+`').disabled`) {
			t.Errorf("#%s is enabled in the watching page", id)
		}
	}
	if got := chrometest.Text(t, second, "#watching-text"); !strings.Contains(got, "another window") {
		t.Errorf("the watching page says %q", got)
	}
	chrometest.NoOverflow(t, second, "watching")
	chrometest.Screenshot(t, second, shots, "consent-1-watching")
	// Past its disabled buttons, by hand, with the secret the tab holds: a
	// start from the watching tab is refused by the installer.
	reply := chrometest.Eval[string](t, second, `new Promise((resolve) => {
		const ws = new WebSocket('ws://' + location.host + '/bridge', ['seattle.bridge.v1', 'secret.' + sessionStorage.getItem('seattle.secret')]);
		ws.onopen = () => ws.send(JSON.stringify({ type: 'start', percent: 100 }));
		ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.type === 'error') { resolve(m.message); ws.close(); } };
		ws.onclose = () => resolve('closed');
		setTimeout(() => resolve('no answer'), 5000);
	})`)
	if !strings.Contains(reply, "only watches") {
		t.Errorf("a start from the watching tab got %q, want a refusal", reply)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(node); err == nil {
		t.Fatal("the watching page started the install")
	}

	// It asks; the first page says no.
	chrometest.Do(t, second, "press Take over", chromedp.Click(chromedp.CSS("#takeover")))
	chrometest.WaitFor(t, first, "the question in the first page", `document.getElementById('handover').open`, 10*time.Second)
	if got := chrometest.Eval[string](t, first, `document.activeElement.id`); got != "handover-keep" {
		t.Errorf("focus is on %q, want Keep control here (the safe answer)", got)
	}
	chrometest.NoOverflow(t, first, "the handover question")
	chrometest.Screenshot(t, first, shots, "consent-2-asked")
	chrometest.Do(t, first, "press Escape", chromedp.KeyEvent(kb.Escape))
	chrometest.WaitFor(t, second, "the refusal", `document.getElementById('watching-text').textContent.includes('said no')`, 10*time.Second)
	if chrometest.Eval[bool](t, first, `document.getElementById('handover').open`) {
		t.Error("the question stays open after Escape")
	}
	// Asked again, the first page keeps control with its button.
	chrometest.Do(t, second, "press Take over", chromedp.Click(chromedp.CSS("#takeover")))
	chrometest.WaitFor(t, first, "the question in the first page", `document.getElementById('handover').open`, 10*time.Second)
	chrometest.Eval[bool](t, second, `(() => { document.getElementById('watching-text').textContent = ''; return true; })()`)
	chrometest.Do(t, first, "keep control", chromedp.Click(chromedp.CSS("#handover-keep")))
	chrometest.WaitFor(t, second, "the refusal", `document.getElementById('watching-text').textContent.includes('said no')`, 10*time.Second)
	if chrometest.Eval[string](t, second, `document.body.dataset.role`) != "view" {
		t.Fatal("the second page got control although the first said no")
	}

	// It asks again; the first page agrees. Control moves.
	chrometest.Do(t, second, "press Take over again", chromedp.Click(chromedp.CSS("#takeover")))
	chrometest.WaitFor(t, first, "the question again", `document.getElementById('handover').open`, 10*time.Second)
	chrometest.Do(t, first, "let the other window control it", chromedp.Click(chromedp.CSS("#handover-allow")))
	chrometest.WaitFor(t, second, "control in the second page", `document.body.dataset.role === 'control' && !document.getElementById('install').disabled`, 10*time.Second)
	chrometest.WaitFor(t, first, "the first page watching", `document.body.dataset.role === 'view' && document.getElementById('install').disabled`, 10*time.Second)
	if got := chrometest.Text(t, first, "#watching-text"); !strings.Contains(got, "gave control") {
		t.Errorf("the first page says %q after handing over", got)
	}
	chrometest.Screenshot(t, first, shots, "consent-3-handed-over")

	// A third page, by hand, with the secret: it cannot answer nor cancel.
	d := websocket.Dialer{Subprotocols: []string{bridge.Subprotocol, "secret." + secret}}
	third, _, err := d.Dial("ws://"+host+"/bridge", http.Header{"Origin": {"http://" + host}})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()

	chrometest.WaitFor(t, second, "the review", `document.body.dataset.plan === 'ok'`, 20*time.Second)
	chrometest.Eval[bool](t, second, askAgain)
	chrometest.Do(t, second, "press Install", chromedp.Click(chromedp.CSS("#install")))
	chrometest.WaitFor(t, second, "the question", `document.getElementById('prompt').open`, 20*time.Second)
	chrometest.WaitFor(t, first, "the question, watched", `document.getElementById('prompt').open`, 10*time.Second)
	if !chrometest.Eval[bool](t, first, `[...document.querySelectorAll('#prompt-choices button')].every(b => b.disabled) && !document.getElementById('prompt-watching').hidden && !document.getElementById('prompt-takeover').disabled`) {
		t.Error("the watching page may answer the question, or cannot ask for control from it")
	}
	chrometest.Screenshot(t, first, shots, "consent-4-question-watched")
	q := readUntil(t, third, "prompt")
	var refused []string
	for _, msg := range []string{`{"type":"answer","id":"` + q.ID + `","choice":"cancel"}`, `{"type":"cancel"}`, `{"type":"start","percent":100}`} {
		third.WriteMessage(websocket.TextMessage, []byte(msg))
		refused = append(refused, readUntil(t, third, "error").Message)
	}
	if !slices.ContainsFunc(refused, func(s string) bool { return strings.Contains(s, "only watches") }) {
		t.Errorf("the third page's messages got %q", refused)
	}
	chrometest.Do(t, second, "answer continue", chromedp.Click(chromedp.CSS(`#prompt button[data-choice="continue"]`)))
	chrometest.WaitFor(t, second, "the result", `document.body.dataset.result === 'ok'`, 30*time.Second)
	chrometest.WaitFor(t, first, "the result, watched", `document.body.dataset.result === 'ok'`, 10*time.Second)
	if code := p.wait(t); code != exitOK {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
	}
	if _, err := os.Stat(filepath.Join(node, "vesseldict")); err != nil {
		t.Errorf("no vesseldict after the install: %v", err)
	}
}
