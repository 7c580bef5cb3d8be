package ui

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/install"
)

// Browser runs the install behind the donor page in the system browser. It
// prints "UI: URL" to out (the URL holds the secret in its fragment: out is
// the donor's own terminal), opens the browser unless noOpen, and returns
// when the install has ended and the page has the result, or when ctx ends
// before the page pressed Install.
//
// The browser is never given the secret on a command line, where any user
// of the machine can read it (/proc/PID/cmdline): it is given the name of a
// file only the donor can read, which sends it on to an address holding a
// one-time launch token (see launchFile and bridge.Server.LaunchURL).
func Browser(ctx context.Context, opts install.Options, noOpen bool, out io.Writer) (*install.Result, error) {
	srv, err := bridge.New(DonorPage())
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	out = &lockedWriter{w: out}
	srv.OnPage(func() { fmt.Fprintln(out, "Page connected.") })
	srv.OnView(func() { fmt.Fprintln(out, watcherNotice) })
	fmt.Fprintf(out, "UI: %s\n", srv.URL())
	if !noOpen {
		remove, err := launch(srv)
		defer remove()
		if err != nil {
			fmt.Fprintf(out, "Could not open a browser (%v): open the address above yourself.\n", err)
		} else {
			fmt.Fprintln(out, "The install page is open in your browser; press Install there.")
		}
	}
	return session(ctx, srv, opts, "browser", nil)
}

// watcherNotice is what the terminal says when a page connects while
// another controls the install.
const watcherNotice = "Another page opened the install; it can only watch unless the page in control lets it take over."

// launch opens the system browser on a fresh launch address, through a
// private file; remove deletes the file (call it when the session ends).
func launch(srv *bridge.Server) (remove func(), err error) {
	u, err := srv.LaunchURL()
	if err != nil {
		return func() {}, err
	}
	file, remove, err := launchFile(u)
	if err != nil {
		return remove, err
	}
	return remove, openBrowser(file)
}

// launchFile writes a page that sends the browser on to target into a fresh
// directory only the current user may enter (0700), as a file only they may
// read (0600), created new (O_EXCL), as Jupyter does. It returns the file's
// file:// URL and a function that removes the directory.
func launchFile(target string) (fileURL string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "seattle-installer-")
	if err != nil {
		return "", func() {}, fmt.Errorf("make a private directory for the launch page: %w", err)
	}
	remove = func() { os.RemoveAll(dir) }
	// MkdirTemp makes it 0700 already; say so where a umask cannot matter.
	if err := os.Chmod(dir, 0o700); err != nil {
		remove()
		return "", func() {}, fmt.Errorf("make %s private: %w", dir, err)
	}
	path := filepath.Join(dir, "open-installer.html")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		remove()
		return "", func() {}, fmt.Errorf("write the launch page: %w", err)
	}
	t := html.EscapeString(target)
	page := `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=` + t + `">
<title>Seattle installer</title></head>
<body><p><a href="` + t + `">Open the Seattle installer</a></p></body></html>
`
	if _, err := io.WriteString(f, page); err != nil {
		f.Close()
		remove()
		return "", func() {}, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		remove()
		return "", func() {}, fmt.Errorf("write %s: %w", path, err)
	}
	return fileURLOf(path), remove, nil
}

// fileURLOf is the file:// URL of an absolute path (file:///C:/... on
// Windows).
func fileURLOf(path string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// lockedWriter serialises writes from the launcher and the bridge's
// connection callbacks.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// openPath asks the desktop to show a file or folder (the log, the install
// directory) in its own program.
func openPath(path string) error { return openBrowser(path) }

// openBrowser asks the desktop to show target. The browser stays when we
// exit. On Linux and BSD, xdg-open honours $BROWSER when no desktop is
// running; the tests use that to put their own launcher in its place.
func openBrowser(target string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", target)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", target)
	default:
		cmd = exec.Command("xdg-open", target)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	go cmd.Wait() // reap it; xdg-open returns at once
	return nil
}
