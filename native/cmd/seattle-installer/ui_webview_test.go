//go:build cgo && !nowebview

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

// startXvfb starts a virtual X display on a free number and returns its
// DISPLAY value; it stops with the test.
func startXvfb(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run `make deps` (installs xvfb and imagemagick): %v", tool, err)
		}
	}
	for n := 91; n < 200; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		sock := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		if _, err := os.Stat(sock); err == nil {
			continue
		}
		cmd := exec.Command("Xvfb", fmt.Sprintf(":%d", n), "-screen", "0", "1024x768x24", "-nolisten", "tcp")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		deadline := time.After(10 * time.Second)
		for {
			if _, err := os.Stat(sock); err == nil {
				t.Cleanup(func() { cmd.Process.Kill(); <-exited })
				return fmt.Sprintf(":%d", n)
			}
			select {
			case <-exited:
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("Xvfb :%d did not come up: %s", n, &stderr)
			case <-time.After(20 * time.Millisecond):
				continue
			}
			break // exited: the number was taken after all; try the next
		}
	}
	t.Fatal("no free X display number from :91 to :199")
	return ""
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
			path := filepath.Join(t.TempDir(), "last.png")
			os.WriteFile(path, raw, 0o644)
			t.Fatalf("the window never showed %s (#%06x)", what, rgb)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Colours of the donor page (donor.css): the header, and the Install
// button, which shows only when the vessels are valid.
const (
	headerBlue  = 0x16324f
	installBlue = 0x1f6feb
	bannerWarm  = 0xfff6e0
)

// takeOver connects to the bridge as the test's own page, which takes
// control from the window (one controller at a time).
func takeOver(t *testing.T, uiURL string) *websocket.Conn {
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
	return ws
}

type msg struct {
	Type    string `json:"type"`
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

func TestWebviewWindowUnderXvfb(t *testing.T) {
	display := startXvfb(t)
	shots := chrometest.ScreenshotDir(t)
	for _, tc := range []struct {
		name string
		// after the prompt: answer it, or interrupt the program
		answer bool
		code   int
	}{
		{"install completes", true, exitOK},
		{"closing during the install cancels it", false, exitFail},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			node := filepath.Join(dir, "node")
			p := startUI(t, []string{"DISPLAY=" + display, "WAYLAND_DISPLAY="},
				"install", "--ui", "webview", "--measured", writeMeasured(t, dir), "--dir", node, "--vesselinfo", sampleVesselinfo)
			p.waitLine(t, "Page connected.", 60*time.Second)
			raw := waitForColour(t, display, "the Install button under the vessels", installBlue, 500, 30*time.Second)
			os.WriteFile(filepath.Join(shots, "webview-1-vessels.png"), raw, 0o644)

			ws := takeOver(t, p.url)
			raw = waitForColour(t, display, `the "opened in another window" banner`, bannerWarm, 2000, 20*time.Second)
			os.WriteFile(filepath.Join(shots, "webview-2-elsewhere.png"), raw, 0o644)

			readUntil(t, ws, "hello")
			ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"start","percent":10}`))
			q := readUntil(t, ws, "prompt")
			if tc.answer {
				ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"answer","id":%q,"choice":"continue"}`, q.ID)))
				if r := readUntil(t, ws, "result"); !r.OK {
					t.Fatalf("result: %+v", r)
				}
				// The install is over; the window stays until it is closed
				// (here: the program is told to stop).
				time.Sleep(200 * time.Millisecond)
				if p.cmd.ProcessState != nil {
					t.Fatal("the program exited while its window was open")
				}
			}
			p.cmd.Process.Signal(syscall.SIGTERM)
			if !tc.answer {
				if r := readUntil(t, ws, "result"); r.OK || !strings.Contains(r.Message, "cancel") {
					t.Errorf("result after closing: %+v", r)
				}
			}
			if code := p.wait(t); code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, p.stdout, &p.stderr)
			}
			_, err := os.Stat(filepath.Join(node, "vesseldict"))
			if tc.answer && err != nil {
				t.Errorf("no state on disk: %v", err)
			}
			if !tc.answer && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a cancelled install left a vesseldict (%v)", err)
			}
		})
	}
}

func TestWebviewWithoutDisplayFallsBackToBrowser(t *testing.T) {
	dir := t.TempDir()
	p := startUI(t, []string{"DISPLAY=", "WAYLAND_DISPLAY="}, "install", "--ui", "webview", "--no-open",
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
			cmd := exec.Command(binPath, "install", "--help")
			cmd.Env = append(os.Environ(), "DISPLAY="+tc.display, "WAYLAND_DISPLAY=")
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("--help says %q, want %q", out, tc.want)
			}
		})
	}
}
