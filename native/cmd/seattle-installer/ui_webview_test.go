//go:build cgo && !nowebview

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/native/ui"
	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

// startXvfb starts a virtual X display and returns its DISPLAY value; it
// stops with the test. Xvfb picks a free display number itself
// (-displayfd), so tests running at once, or stale lock files, do not
// collide; it is stopped with SIGTERM so it removes its lock and socket.
func startXvfb(t *testing.T) string {
	t.Helper()
	return startXvfbSized(t, "1024x768")
}

// startXvfbSized is startXvfb with a screen of size ("800x600").
func startXvfbSized(t *testing.T, size string) string {
	t.Helper()
	for _, tool := range []string{"Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run `make deps` (installs xvfb and imagemagick): %v", tool, err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// fd 3 in Xvfb is the first of ExtraFiles.
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", size+"x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { stop(cmd.Process, exited) })
	number := make(chan string, 1)
	go func() {
		// Xvfb writes "N\n" once it accepts connections; EOF if it died.
		b, _ := io.ReadAll(io.LimitReader(r, 16))
		number <- strings.TrimSpace(string(b))
	}()
	select {
	case n := <-number:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb did not come up (it said %q on -displayfd): %s", n, &stderr)
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatalf("Xvfb did not come up within 20 s: %s", &stderr)
	}
	return ""
}

// stop ends a helper process politely (SIGTERM, so an X server removes its
// lock file), then for good if it lingers; exited closes when it is gone.
func stop(p *os.Process, exited <-chan struct{}) {
	p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		p.Kill()
		<-exited
	}
}

// screenshot captures the whole X screen with ImageMagick's import.
func screenshot(t *testing.T, display string) (image.Image, []byte) {
	t.Helper()
	cmd := exec.Command("import", "-display", display, "-window", "root", "png:-")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("import: %v: %s", err, &stderr)
	}
	img, err := png.Decode(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("decode the screenshot: %v", err)
	}
	return img, out.Bytes()
}

// pixels counts the pixels of exactly the colour #rrggbb.
func pixels(img image.Image, rgb uint32) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r>>8)<<16|(g>>8)<<8|bl>>8 == rgb {
				n++
			}
		}
	}
	return n
}

// click clicks, with xdotool's pointer, the middle of the box around the
// pixels of exactly rgb in img: a button of that colour, as a donor clicks it.
func click(t *testing.T, display string, img image.Image, rgb uint32) {
	t.Helper()
	box := image.Rectangle{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r>>8)<<16|(g>>8)<<8|bl>>8 == rgb {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if box.Empty() {
		t.Fatalf("nothing of #%06x on the screen to click", rgb)
	}
	mid := box.Min.Add(box.Max).Div(2)
	cmd := exec.Command("xdotool", "mousemove", "--sync", fmt.Sprint(mid.X), fmt.Sprint(mid.Y), "click", "1")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool click at %v: %v: %s", mid, err, out)
	}
}

// waitForColour takes screenshots until one has at least min pixels of rgb.
func waitForColour(t *testing.T, display, what string, rgb uint32, min int, timeout time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		img, raw := screenshot(t, display)
		if pixels(img, rgb) >= min {
			return raw
		}
		if time.Now().After(deadline) {
			path := filepath.Join(chrometest.ScreenshotDir(t), "never-"+strings.Map(func(r rune) rune {
				if r == ' ' || r == '"' || r == '/' {
					return '_'
				}
				return r
			}, what)+".png")
			os.WriteFile(path, raw, 0o644)
			t.Fatalf("the window never showed %s (#%06x); the screen then: %s", what, rgb, path)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Colours of the donor page: the header (donor.css), and the Install
// button (--accent of web/common.css), which shows only when the vessels
// are valid.
const (
	headerBlue  = 0x16324f
	installBlue = 0x1d4ed8
	bannerWarm  = 0xfff6e0
	doneGreen   = 0x137333 // the progress bar once the install has succeeded
	// The border of "Let the other window control it" in the question
	// whether to hand control to another page.
	handoverBrown = 0x7a4d00
)

// takeOver connects to the bridge as the test's own page, which only
// watches while the window controls the install; it asks for control, and
// the donor agrees in the window with a click on "Let the other window
// control it" (control moves only with consent).
func takeOver(t *testing.T, display, uiURL string) *websocket.Conn {
	t.Helper()
	u, err := url.Parse(uiURL)
	if err != nil {
		t.Fatal(err)
	}
	d := websocket.Dialer{Subprotocols: []string{bridge.Subprotocol, "secret." + u.Fragment}}
	ws, resp, err := d.Dial("ws://"+u.Host+"/bridge", http.Header{"Origin": {"http://" + u.Host}})
	if err != nil {
		t.Fatalf("connect to the bridge: %v (%v)", err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	if r := readUntil(t, ws, "role"); r.Role != bridge.RoleView {
		t.Fatalf("a second page got the role %+v while the window controls the install, want view", r)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"takeover"}`))
	deadline := time.Now().Add(20 * time.Second)
	for {
		img, raw := screenshot(t, display)
		if pixels(img, handoverBrown) >= 100 {
			click(t, display, img, handoverBrown)
			break
		}
		if time.Now().After(deadline) {
			path := filepath.Join(t.TempDir(), "no-handover.png")
			os.WriteFile(path, raw, 0o644)
			t.Fatalf("the window never asked whether to hand over control (screen in %s)", path)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := readUntil(t, ws, "role"); r.Role != bridge.RoleControl {
		t.Fatalf("after the donor agreed the page got %+v, want control", r)
	}
	return ws
}

// windowTitle is the title Window gives the installer's window.
const windowTitle = "Seattle installer"

// windowManager is a real window manager (openbox) on a test display, so
// the installer's window is closed the way a donor closes it: the title
// bar's close button asks the window manager, which sends the window
// WM_DELETE_WINDOW. wmctrl makes the same request (_NET_CLOSE_WINDOW).
type windowManager struct{ display string }

// startWindowManager starts openbox on display and waits until it manages
// the screen; it stops with the test.
func startWindowManager(t *testing.T, display string) *windowManager {
	t.Helper()
	for _, tool := range []string{"openbox", "wmctrl", "xdotool", "xprop", "xwininfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run `make deps` (installs openbox, wmctrl, xdotool and x11-utils): %v", tool, err)
		}
	}
	cmd := exec.Command("openbox", "--sm-disable")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { stop(cmd.Process, exited) })
	wm := &windowManager{display: display}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// wmctrl -m succeeds once a window manager has announced itself
		// (_NET_SUPPORTING_WM_CHECK); the work area, which the window's
		// size follows, is set after that, as on a desktop before any
		// program opens a window.
		if out, err := wm.wmctrl("-m"); err == nil && strings.Contains(out, "Openbox") {
			xprop := exec.Command("xprop", "-root", "_NET_WORKAREA")
			xprop.Env = append(os.Environ(), "DISPLAY="+display)
			if area, err := xprop.Output(); err == nil && strings.Contains(string(area), "=") {
				return wm
			}
		}
		select {
		case <-exited:
			t.Fatalf("openbox exited (%v): %s", waitErr, &stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("openbox did not take the display within 10 s: %s", &stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (wm *windowManager) wmctrl(args ...string) (string, error) {
	cmd := exec.Command("wmctrl", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+wm.display)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("wmctrl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// managed reports whether the window manager lists a window titled title.
func (wm *windowManager) managed(t *testing.T, title string) bool {
	t.Helper()
	out, err := wm.wmctrl("-l")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(out, "\n") {
		// "0x0040000e  0 host Seattle installer": id, desktop, host, title
		if f := strings.Fields(l); len(f) >= 4 && strings.Join(f[3:], " ") == title {
			return true
		}
	}
	return false
}

// close asks the window manager to close the window titled title, as the
// title bar's close button does, once the window manager has it.
func (wm *windowManager) close(t *testing.T, title string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !wm.managed(t, title) {
		if time.Now().After(deadline) {
			out, _ := wm.wmctrl("-l")
			t.Fatalf("the window manager has no window %q; it has:\n%s", title, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := wm.wmctrl("-F", "-c", title); err != nil {
		t.Fatal(err)
	}
}

// openWindow starts the real binary with --ui webview on display, installing
// into node, and waits until its window shows the vessels and Install.
func openWindow(t *testing.T, display, node string) *uiProcess {
	t.Helper()
	p := startUIOf(t, testbin.Path(t, testbin.Webview()), []string{"DISPLAY=" + display, "WAYLAND_DISPLAY="},
		"install", "--ui", "webview", "--measured", writeMeasured(t, t.TempDir()), "--dir", node, "--vesselinfo", sampleVesselinfo)
	p.waitLine(t, "Page connected.", 60*time.Second)
	// The page compiles its WebAssembly (3.5 MB) before it shows Install:
	// on a loaded machine that alone has taken more than 30 s.
	waitForColour(t, display, "the Install button under the vessels", installBlue, 500, 90*time.Second)
	return p
}

// startToQuestion takes the bridge over from the window, presses Install
// and waits for the question whether to continue with defaults (the
// measured file has an invalid filewrite).
func startToQuestion(t *testing.T, display string, p *uiProcess) (*websocket.Conn, msg) {
	t.Helper()
	ws := takeOver(t, display, p.url)
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"start","percent":10}`))
	return ws, readUntil(t, ws, "prompt")
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWebviewWindowUnderXvfb(t *testing.T) {
	display := startXvfb(t)
	wm := startWindowManager(t, display)
	shots := chrometest.ScreenshotDir(t)

	t.Run("closing_the_window_before_Install_writes_nothing", func(t *testing.T) {
		node := filepath.Join(t.TempDir(), "node")
		p := openWindow(t, display, node)
		if !wm.managed(t, windowTitle) {
			t.Fatalf("the window manager does not list %q", windowTitle)
		}
		_, raw := screenshot(t, display)
		os.WriteFile(filepath.Join(shots, "webview-1-vessels.png"), raw, 0o644)
		wm.close(t, windowTitle)
		if code := p.wait(t); code != exitFail {
			t.Errorf("exit %d after the window was closed, want 1\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
		}
		if want := "install: the window was closed before Install was pressed; nothing was written\n"; !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", &p.stderr, want)
		}
		if _, err := os.Stat(node); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created (%v)", node, err)
		}
	})

	t.Run("the_window_installs_the_plan_it_showed", func(t *testing.T) {
		node := filepath.Join(t.TempDir(), "node")
		p := openWindow(t, display, node)
		// The review is on the screen (the machine was measured first);
		// the donor clicks "Install with safe defaults": the failed
		// measurement was shown there, so nobody asks again.
		raw := waitForColour(t, display, "the Install button", installBlue, 500, 20*time.Second)
		os.WriteFile(filepath.Join(shots, "webview-2-review.png"), raw, 0o644)
		img, _ := screenshot(t, display)
		click(t, display, img, installBlue)
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(node, "vesseldict")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				_, raw := screenshot(t, display)
				path := filepath.Join(shots, "webview-2-not-installed.png")
				os.WriteFile(path, raw, 0o644)
				t.Fatalf("the window did not install (screen in %s)\nstderr: %s", path, &p.stderr)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The page shows the outcome (its progress bar turns green) after
		// the vesseldict is in place.
		raw = waitForColour(t, display, "the finished install's green progress bar", doneGreen, 500, 30*time.Second)
		os.WriteFile(filepath.Join(shots, "webview-3-installed.png"), raw, 0o644)
		closeInstalled(t, wm, p)
	})

	t.Run("closing_the_window_at_the_question_cancels_and_a_rerun_installs", func(t *testing.T) {
		node := filepath.Join(t.TempDir(), "node")
		p := openWindow(t, display, node)
		// A page that starts without the review's consent to the defaults
		// (the test's own, given control in the window) gets the question.
		tempLog := filepath.Join(node, "installer_benchmark.log")
		startToQuestion(t, display, p)
		if _, raw := screenshot(t, display); raw != nil {
			os.WriteFile(filepath.Join(shots, "webview-4-question.png"), raw, 0o644)
		}

		wm.close(t, windowTitle)
		if code := p.wait(t); code != exitFail {
			t.Errorf("exit %d after the window was closed, want 1\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
		}
		for _, want := range []string{"install: The window was closed, so the install stopped.", "Nothing was installed", tempLog} {
			if !strings.Contains(p.stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, &p.stderr)
			}
		}
		// Only the temporary log is left: no vesseldict, no staging or
		// commit directory, no resource file, vessel or manifest.
		if got := listDir(t, node); len(got) != 1 || got[0] != "installer_benchmark.log" {
			t.Errorf("%s holds %q after the cancelled install, want only installer_benchmark.log", node, got)
		}
		if b, err := os.ReadFile(tempLog); err != nil || !strings.Contains(string(b), "Measurement failed for filewrite") {
			t.Errorf("the temporary log does not tell what happened (%v):\n%s", err, b)
		}

		// The donor starts the installer again and this time continues.
		// This time the test drives it through the bridge, which also
		// shows that the window gives control to another page when the
		// donor agrees in the window, and then only watches.
		p = openWindow(t, display, node)
		ws := takeOver(t, display, p.url)
		// The banner is looked for before the install starts: the question
		// that follows is modal and dims everything behind it.
		raw := waitForColour(t, display, `the "you gave control to another window" banner`, bannerWarm, 2000, 20*time.Second)
		os.WriteFile(filepath.Join(shots, "webview-3-elsewhere.png"), raw, 0o644)
		ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"start","percent":10}`))
		q := readUntil(t, ws, "prompt")
		ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"answer","id":%q,"choice":"continue"}`, q.ID)))
		if r := readUntil(t, ws, "result"); !r.OK {
			t.Fatalf("result of the rerun: %+v", r)
		}
		// The install is over; the window shows so, and stays until the
		// donor closes it, which is then no failure.
		waitForColour(t, display, "the finished install's green progress bar", doneGreen, 500, 30*time.Second)
		closeInstalled(t, wm, p)
		// What became of the node, as the window's summary lists it too.
		for _, line := range []string{"The node is not running: no node program is bundled", "To stop it and remove the install: seattle-installer uninstall --dir " + node} {
			if !strings.Contains(p.stdout.String(), line) {
				t.Errorf("stdout lacks %q: %s", line, p.stdout)
			}
		}
		got := strings.Join(listDir(t, node), " ")
		for _, f := range []string{"vesseldict", "installInfo.old", "nodeman.cfg", "resource.v1", "v4"} {
			if !strings.Contains(" "+got+" ", " "+f+" ") {
				t.Errorf("%s holds %s after the rerun: no %s", node, got, f)
			}
		}
		for _, f := range []string{"installer_benchmark.log", ".seattle-installer.staging", ".seattle-installer.commit"} {
			if strings.Contains(" "+got+" ", " "+f+" ") {
				t.Errorf("%s holds %s after the rerun: %s was left behind", node, got, f)
			}
		}
	})

	t.Run("closing_the_window_after_a_declined_install_keeps_its_message", func(t *testing.T) {
		node := filepath.Join(t.TempDir(), "node")
		p := openWindow(t, display, node)
		ws, q := startToQuestion(t, display, p)
		ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"answer","id":%q,"choice":"cancel"}`, q.ID)))
		if r := readUntil(t, ws, "result"); r.OK {
			t.Fatalf("result after declining: %+v", r)
		}
		wm.close(t, windowTitle)
		if code := p.wait(t); code != exitFail {
			t.Errorf("exit %d, want 1\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
		}
		// The install had ended before the window closed: the terminal
		// tells why it ended, not that the window was closed.
		if strings.Contains(p.stderr.String(), "window was closed") || !strings.Contains(p.stderr.String(), "answer yes") {
			t.Errorf("stderr does not give the decline's own message: %s", &p.stderr)
		}
		if _, err := os.Stat(filepath.Join(node, "vesseldict")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a declined install left a vesseldict (%v)", err)
		}
	})

	t.Run("stopping_the_program_at_the_question_closes_the_window_and_cancels", func(t *testing.T) {
		node := filepath.Join(t.TempDir(), "node")
		p := openWindow(t, display, node)
		ws, _ := startToQuestion(t, display, p)
		p.cmd.Process.Signal(syscall.SIGTERM)
		if r := readUntil(t, ws, "result"); r.OK || !strings.Contains(r.Message, "cancel") {
			t.Errorf("result after SIGTERM: %+v", r)
		}
		if code := p.wait(t); code != exitFail {
			t.Errorf("exit %d, want 1\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
		}
		if strings.Contains(p.stderr.String(), "window was closed") {
			t.Errorf("stderr blames the window for a SIGTERM: %s", &p.stderr)
		}
		if _, err := os.Stat(filepath.Join(node, "vesseldict")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a cancelled install left a vesseldict (%v)", err)
		}
	})
}

func TestWebviewWithoutDisplayFallsBackToBrowser(t *testing.T) {
	dir := t.TempDir()
	p := startUIOf(t, testbin.Path(t, testbin.Webview()), []string{"DISPLAY=", "WAYLAND_DISPLAY="}, "install", "--ui", "webview", "--no-open",
		"--measured", writeMeasured(t, dir), "--dir", filepath.Join(dir, "node"), "--vesselinfo", sampleVesselinfo)
	if !strings.HasPrefix(p.url, "http://127.0.0.1:") {
		t.Errorf("address %q", p.url)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != exitFail {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(p.stderr.String(), "using the browser instead") {
		t.Errorf("stderr does not say why there is no window: %s", &p.stderr)
	}
}

func TestDefaultUIFollowsTheDisplay(t *testing.T) {
	for _, tc := range []struct {
		name, display, want string
	}{
		{"window with a display", ":0", "default: webview"},
		{"terminal without one", "", "default: none"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			cmd := testbin.Command(context.Background(), testbin.Path(t, testbin.Webview()), "install", "--help")
			cmd.Env = append(os.Environ(), "DISPLAY="+tc.display, "WAYLAND_DISPLAY=")
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("--help says %q, want %q", out, tc.want)
			}
		})
	}
}

// layout is what the window's page last reported through the layout probe
// (ui.LayoutProbeEnv): its stage, its viewport in CSS pixels, and its
// visible buttons with their boxes.
type layout struct {
	Stage, Result, Plan string
	Width, Height       float64
	Scale               float64
	Screen              string // its size and the available part, as the page sees them
	Controls            []struct {
		ID, Action, Text string
		X, Y, W, H       float64
		OnTop            bool
	}
}

// inView returns the visible button whose id, or else data-action, is name
// when it lies wholly inside the viewport and is the topmost element at its
// centre (no dialog, bar or edge covers it), and whether there is one.
func (l layout) inView(name string) (x, y float64, ok bool) {
	for _, c := range l.Controls {
		if c.ID != name && (c.ID != "" || c.Action != name) {
			continue
		}
		if c.OnTop && c.W >= 1 && c.H >= 1 && c.X >= 0 && c.Y >= 0 && c.X+c.W <= l.Width && c.Y+c.H <= l.Height {
			return c.X + c.W/2, c.Y + c.H/2, true
		}
	}
	return 0, 0, false
}

// lastLayout is the page's latest report on the installer's stderr.
func lastLayout(t *testing.T, p *uiProcess) (layout, bool) {
	t.Helper()
	out := p.stderr.String()
	i := strings.LastIndex(out, "\nlayout: ")
	if i < 0 {
		if !strings.HasPrefix(out, "layout: ") {
			return layout{}, false
		}
	} else {
		out = out[i+1:]
	}
	line, _, _ := strings.Cut(strings.TrimPrefix(out, "layout: "), "\n")
	var l layout
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatalf("the layout report %q: %v", line, err)
	}
	return l, true
}

// waitInView waits until the page is at stage and shows every one of
// buttons whole in the window; it returns the page's layout then. On a
// timeout it saves the screen and fails with the last report.
func waitInView(t *testing.T, p *uiProcess, display, stage string, buttons []string, timeout time.Duration) layout {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		l, ok := lastLayout(t, p)
		if ok && l.Stage == stage && (stage != "before" || l.Plan == "ok") {
			all := true
			for _, b := range buttons {
				_, _, in := l.inView(b)
				all = all && in
			}
			if all {
				return l
			}
		}
		if time.Now().After(deadline) {
			_, raw := screenshot(t, display)
			path := filepath.Join(chrometest.ScreenshotDir(t), "never-"+stage+".png")
			os.WriteFile(path, raw, 0o644)
			t.Fatalf("the window never showed %q whole at stage %s within %v; the page last reported %+v; the screen then: %s\nstderr: %s",
				buttons, stage, timeout, l, path, &p.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// press clicks, with xdotool's pointer, the button name where the page
// said it is: at its centre, in the window's coordinates.
func press(t *testing.T, display string, l layout, name string) {
	t.Helper()
	x, y, ok := l.inView(name)
	if !ok {
		t.Fatalf("%s is not in the window to press: %+v", name, l)
	}
	cmd := exec.Command("xdotool", "search", "--name", windowTitle, "mousemove", "--sync", "--window", "%1", fmt.Sprint(int(x)), fmt.Sprint(int(y)), "click", "1")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool: press %s at %.0f,%.0f: %v: %s", name, x, y, err, out)
	}
}

// waitStderr waits for a line of stderr that starts with prefix and
// returns the rest of it.
func (p *uiProcess) waitStderr(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range strings.Split(p.stderr.String(), "\n") {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line on stderr within %v:\n%s", prefix, timeout, &p.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pauseAtWrite is the checkpoint, counted by the state.TestPauseEnv seam,
// at which the window's install starts writing the state (with --measured
// nothing before Install reaches one): there the install holds, showing
// its progress and Cancel, until the test ends the process.
const pauseAtWrite = 6

// TestWebviewWindowFitsTheScreen opens the real window on an 800×600 and a
// 1920×1080 screen (with a window manager, as on a desktop): the window
// lies inside the screen and its page fills it; Install and Close (before
// the install), Cancel (during it, held at a checkpoint) and Close (after
// it) are each whole inside the window and not covered, as the page itself
// measures them (getBoundingClientRect within innerWidth × innerHeight);
// the test presses them with the pointer where the page says they are:
// Close before the install ends the program writing nothing (exit 1), Close
// after it ends it (exit 0). The window can be made smaller. A screenshot
// of each stage is saved.
func TestWebviewWindowFitsTheScreen(t *testing.T) {
	for _, sc := range []struct{ w, h int }{{800, 600}, {1920, 1080}} {
		t.Run(fmt.Sprintf("%dx%d", sc.w, sc.h), func(t *testing.T) {
			display := startXvfbSized(t, fmt.Sprintf("%dx%d", sc.w, sc.h))
			wm := startWindowManager(t, display)
			shots := chrometest.ScreenshotDir(t)
			save := func(step string) {
				_, raw := screenshot(t, display)
				os.WriteFile(filepath.Join(shots, fmt.Sprintf("webview-fit-%dx%d-%s.png", sc.w, sc.h, step)), raw, 0o644)
			}
			// open starts the installer's window, installing into node.
			open := func(node string, env ...string) *uiProcess {
				p := startUIOf(t, testbin.Path(t, testbin.Webview()), append([]string{"DISPLAY=" + display, "WAYLAND_DISPLAY=", ui.LayoutProbeEnv + "=1"}, env...),
					"install", "--ui", "webview", "--measured", writeMeasured(t, t.TempDir()), "--dir", node, "--vesselinfo", sampleVesselinfo)
				p.waitLine(t, "Page connected.", 60*time.Second)
				return p
			}
			// The window on the screen, its title bar and borders too,
			// and the page filling it: the page's viewport is the
			// window's inside, at one CSS pixel a screen pixel.
			fits := func(l layout) {
				t.Helper()
				f := windowFrame(t, display)
				t.Logf("window %dx%d at %d,%d (frame: %d left, %d right, %d top, %d bottom) on %dx%d; the page %gx%g at scale %g",
					f.w, f.h, f.x, f.y, f.left, f.right, f.top, f.bottom, sc.w, sc.h, l.Width, l.Height, l.Scale)
				if f.w < 360 || f.h < 300 || f.x-f.left < 0 || f.y-f.top < 0 || f.x+f.w+f.right > sc.w || f.y+f.h+f.bottom > sc.h {
					t.Errorf("the window is %dx%d at %d,%d with a frame of %d, %d, %d, %d on a %dx%d screen",
						f.w, f.h, f.x, f.y, f.left, f.right, f.top, f.bottom, sc.w, sc.h)
				}
				if l.Scale != 1 || l.Width != float64(f.w) || l.Height != float64(f.h) {
					t.Errorf("the page is %gx%g at scale %g in a %dx%d window", l.Width, l.Height, l.Scale, f.w, f.h)
				}
			}

			// shown waits until the screen shows the button name of l
			// painted in one of colours, at mid-height 4 px inside its
			// left edge.
			shown := func(l layout, name string, colours ...uint32) {
				t.Helper()
				var c *struct {
					ID, Action, Text string
					X, Y, W, H       float64
					OnTop            bool
				}
				for i := range l.Controls {
					if l.Controls[i].ID == name {
						c = &l.Controls[i]
					}
				}
				if c == nil {
					t.Fatalf("the page reports no %s: %+v", name, l)
				}
				f := windowFrame(t, display)
				x, y := f.x+int(c.X)+4, f.y+int(c.Y+c.H/2)
				var got uint32
				for deadline := time.Now().Add(20 * time.Second); ; {
					img, _ := screenshot(t, display)
					r, g, b, _ := img.At(x, y).RGBA()
					got = (r>>8)<<16 | (g>>8)<<8 | b>>8
					if slices.Contains(colours, got) {
						return
					}
					if time.Now().After(deadline) {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				save("not-shown-" + name)
				t.Errorf("the screen shows #%06x at %d,%d, not %s (%06x) where the page says it is", got, x, y, name, colours)
			}

			// Install and Close before the install; Cancel during it.
			// The page compiles its WebAssembly (3.5 MB) before it shows
			// Install: on a loaded machine that alone has taken more
			// than 30 s.
			p := open(filepath.Join(t.TempDir(), "node"), fmt.Sprintf("%s=%d", state.TestPauseEnv, pauseAtWrite))
			l := waitInView(t, p, display, "before", []string{"install", "close-before"}, 90*time.Second)
			fits(l)
			// The page says where Install is; the screen must show it
			// there too (WebKit paints after it lays out, so wait for
			// it): the accent blue just inside the button's left edge.
			shown(l, "install", 0x1d4ed8, 0x1e40af)
			save("1-review")
			press(t, display, l, "install")
			l = waitInView(t, p, display, "during", []string{"cancel"}, 30*time.Second)
			fits(l)
			if _, _, ok := l.inView("install"); ok {
				t.Error("Install is still offered during the install")
			}
			save("2-installing")
			if cp := p.waitStderr(t, fmt.Sprintf("checkpoint %d: ", pauseAtWrite), 10*time.Second); !strings.Contains(cp, "start of phase write") {
				t.Errorf("the install held at %q, want the start of the write phase", cp)
			}
			// Resizable: the window manager can make it smaller.
			if _, err := wm.wmctrl("-r", windowTitle, "-e", "0,0,0,500,450"); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for g := geometry(t, display); g["WIDTH"] > 520; g = geometry(t, display) {
				if time.Now().After(deadline) {
					t.Errorf("the window stays %dx%d: it cannot be made smaller", g["WIDTH"], g["HEIGHT"])
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			p.cmd.Process.Kill() // held at the checkpoint for good
			p.wait(t)

			// Close before the install ends the program and writes
			// nothing.
			node := filepath.Join(t.TempDir(), "node")
			p = open(node)
			l = waitInView(t, p, display, "before", []string{"install", "close-before"}, 90*time.Second)
			press(t, display, l, "close-before")
			if code := p.wait(t); code != exitFail {
				t.Errorf("exit %d after Close before Install, want 1\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
			}
			if want := "nothing was written"; !strings.Contains(p.stderr.String(), want) {
				t.Errorf("stderr lacks %q: %s", want, &p.stderr)
			}
			if _, err := os.Stat(node); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Close before Install created %s (%v)", node, err)
			}

			// Close after the install, which ends the program.
			p = open(filepath.Join(t.TempDir(), "node"))
			l = waitInView(t, p, display, "before", []string{"install", "close-before"}, 90*time.Second)
			press(t, display, l, "install")
			l = waitInView(t, p, display, "after", []string{"close"}, 30*time.Second)
			fits(l)
			save("3-installed")
			press(t, display, l, "close")
			if code := p.wait(t); code != exitOK {
				t.Errorf("exit %d after Close, want 0\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
			}
			if !strings.Contains(p.stdout.String(), "Installed 4 vessels") {
				t.Errorf("stdout lacks the outcome: %s", p.stdout)
			}
		})
	}
}

// frame is where the installer's window is on the screen: its inside
// (x, y, w, h: xwininfo's absolute position and size) and the window
// manager's frame around it (title bar and borders: _NET_FRAME_EXTENTS).
// xdotool's getwindowgeometry counts the frame into the position under a
// reparenting window manager, so it is not used for this.
type frame struct{ x, y, w, h, left, right, top, bottom int }

func windowFrame(t *testing.T, display string) frame {
	t.Helper()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		return string(out)
	}
	id := strings.Fields(run("xdotool", "search", "--name", windowTitle))[0]
	var f frame
	for _, l := range strings.Split(run("xwininfo", "-id", id), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), ":")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil {
			continue
		}
		switch k {
		case "Absolute upper-left X":
			f.x = n
		case "Absolute upper-left Y":
			f.y = n
		case "Width":
			f.w = n
		case "Height":
			f.h = n
		}
	}
	// _NET_FRAME_EXTENTS(CARDINAL) = 1, 1, 20, 6
	_, ext, _ := strings.Cut(run("xprop", "-id", id, "_NET_FRAME_EXTENTS"), "=")
	if _, err := fmt.Sscanf(strings.TrimSpace(ext), "%d, %d, %d, %d", &f.left, &f.right, &f.top, &f.bottom); err != nil {
		t.Fatalf("the window manager gives the window no frame extents (%q): %v", ext, err)
	}
	return f
}

// geometry is the window's place and size as xdotool reports them: X, Y,
// WIDTH, HEIGHT.
func geometry(t *testing.T, display string) map[string]int {
	t.Helper()
	cmd := exec.Command("xdotool", "search", "--name", windowTitle, "getwindowgeometry", "--shell")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xdotool: %v", err)
	}
	geo := map[string]int{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			geo[k], _ = strconv.Atoi(v)
		}
	}
	return geo
}

// closeInstalled closes the window of a finished install as a donor does:
// it must still be there (the install does not close it), and closing it
// then is no failure: exit 0, the outcome on stdout.
func closeInstalled(t *testing.T, wm *windowManager, p *uiProcess) {
	t.Helper()
	if !wm.managed(t, windowTitle) {
		t.Fatal("the window went away by itself after the install")
	}
	wm.close(t, windowTitle)
	if code := p.wait(t); code != exitOK {
		t.Errorf("exit %d, want 0\nstdout: %s\nstderr: %s", code, p.stdout, &p.stderr)
	}
	if !strings.Contains(p.stdout.String(), "Installed 4 vessels") {
		t.Errorf("stdout lacks the outcome: %s", p.stdout)
	}
}
