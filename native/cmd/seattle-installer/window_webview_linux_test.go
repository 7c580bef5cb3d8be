//go:build linux && cgo && !nowebview

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/seattletestbed/seattle-installer/bridge"
)

func TestAnotherUserCannotTakeTheNativeWindow(t *testing.T) {
	asNobody := otherUser(t)
	display := startXvfb(t)
	node := filepath.Join(t.TempDir(), "node")
	p := openWindow(t, display, node)
	host, secret := secretOf(t, p.url)
	port := strings.TrimPrefix(host, "127.0.0.1:")

	r := asNobody("-port", port, "-watch", "seattle-installer,WebKit")
	t.Logf("as nobody: %d command lines and %d environments read (%d refused), %d words tried: %v",
		r.Cmdlines, r.Environs, r.EnvironsDenied, r.Tried, r.Statuses)
	var sawInstaller, sawWebKit bool
	for _, line := range r.Seen {
		sawInstaller = sawInstaller || strings.Contains(line, "--ui webview")
		sawWebKit = sawWebKit || strings.Contains(line, "WebKitWebProcess")
	}
	if !sawInstaller || !sawWebKit {
		t.Fatalf("the scan did not see the installer and its web process (it saw %q): it proves nothing", r.Seen)
	}
	if len(r.Accepted) != 0 {
		t.Fatalf("nobody connected to the window's bridge with %q", r.Accepted)
	}
	for _, w := range r.Words {
		if strings.Contains(w, secret) {
			t.Errorf("nobody found the secret: %q", w)
		}
	}
	// The window's own page controls the install: even the secret only
	// watches.
	r = asNobody("-port", port, "-try", secret)
	if len(r.Accepted) != 1 || r.Role != bridge.RoleView || len(r.Replies) != 4 {
		t.Fatalf("nobody with the secret: accepted %q, role %q, replies %q; want a watcher refused four times", r.Accepted, r.Role, r.Replies)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != exitFail {
		t.Errorf("exit %d after an interrupt, want 1\nstderr: %s", code, &p.stderr)
	}
	if strings.Contains(p.stderr.String(), secret) {
		t.Error("the secret is on stderr")
	}
}
