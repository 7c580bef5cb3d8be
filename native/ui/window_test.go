package ui

import (
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/bridge"
)

func TestLaunchFileIsPrivateAndHoldsNoSecret(t *testing.T) {
	srv, err := bridge.New(DonorPage())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	target, err := srv.LaunchURL()
	if err != nil {
		t.Fatal(err)
	}
	fileURL, remove, err := launchFile(target)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(fileURL)
	if err != nil || u.Scheme != "file" {
		t.Fatalf("launch address %q is not a file:// URL (%v)", fileURL, err)
	}
	// file:///C:/Users/... on Windows: the path is C:/Users/..., without
	// the slash that separates it from the empty host.
	path := filepath.FromSlash(u.Path)
	if runtime.GOOS == "windows" {
		path = filepath.FromSlash(strings.TrimPrefix(u.Path, "/"))
	}
	if strings.Contains(fileURL, srv.Secret()) || strings.Contains(fileURL, "launch=") {
		t.Errorf("the address given to the launcher, %q, holds a credential", fileURL)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), srv.Secret()) {
		t.Error("the launch page holds the session's secret")
	}
	if !strings.Contains(string(body), `http-equiv="refresh" content="0;url=`+target+`"`) {
		t.Errorf("the launch page does not send the browser on to %s:\n%s", target, body)
	}
	if runtime.GOOS != "windows" {
		for _, tc := range []struct {
			path string
			mode os.FileMode
		}{{filepath.Dir(path), 0o700 | os.ModeDir}, {path, 0o600}} {
			fi, err := os.Lstat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != tc.mode {
				t.Errorf("%s has mode %v, want %v", tc.path, fi.Mode(), tc.mode)
			}
		}
	}
	remove()
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("the launch directory is still there after remove (%v)", err)
	}
}

func TestWatchingPageCannotDriveTheSession(t *testing.T) {
	opts := options(t, true)
	srv, done := startSession(t, opts)
	owner := connectPage(t, srv)
	watcher := connectAs(t, srv)
	if watcher.role != bridge.RoleView {
		t.Fatalf("the second page got %q, want view", watcher.role)
	}
	watcher.until("hello")
	owner.until("review") // measured: a start the session took now would run
	watcher.send(`{"type":"start","percent":100}`)
	if m := next(watcher, "error"); !strings.Contains(m.Message, "only watches") {
		t.Errorf("the watcher's start got %s", m.Raw)
	}
	// The session takes messages in order: an answer the owner sends now
	// comes after anything of the watcher's that could have reached it, and
	// "has not started" (not the running install's "no such question")
	// shows that nothing started the install.
	owner.send(`{"type":"answer","id":"p1","choice":"continue"}`)
	if m := next(owner, "error"); !strings.Contains(m.Message, "has not started") {
		t.Fatalf("after the watcher's start, the owner's answer got %s", m.Raw)
	}
	if _, err := os.Stat(opts.Dir); err == nil {
		t.Fatal("the watching page started the install")
	}
	// The owner starts; the watcher sees the question but cannot answer it
	// nor cancel the install.
	owner.send(`{"type":"start","percent":10}`)
	q := next(watcher, "prompt")
	watcher.send(`{"type":"answer","id":"` + q.ID + `","choice":"continue"}`)
	watcher.until("error")
	watcher.send(`{"type":"cancel"}`)
	watcher.until("error")
	owner.until("prompt")
	owner.send(`{"type":"answer","id":"` + q.ID + `","choice":"continue"}`)
	res := next(owner, "result")
	if !res.OK {
		t.Fatalf("result %s", res.Raw)
	}
	if o := wait(t, done); o.err != nil || !o.res.OK {
		t.Fatalf("outcome %+v %v", o.res, o.err)
	}
	if r := next(watcher, "result"); !r.OK {
		t.Errorf("the watcher was told %s", r.Raw)
	}
}

// next reads up to a message of type typ and returns it.
func next(p *fakePage, typ string) hostMsg {
	p.t.Helper()
	got := p.until(typ)
	return got[len(got)-1]
}
