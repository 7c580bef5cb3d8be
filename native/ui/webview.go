//go:build cgo && !nowebview

package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	webview "github.com/webview/webview_go"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/install"
)

// HasWindow reports whether this binary can open a native window.
const HasWindow = true

// ErrNoWindow is returned by Window when no window could be opened (no
// display, or the system's web view is missing).
var ErrNoWindow = errors.New("could not open a window: no display or no system web view; use --ui browser")

// Window runs the install behind the donor page in a native window. It must
// be called from the main goroutine (webview_go locks it to the main
// thread, which the window toolkits need). It prints "UI: URL" to out, so
// the page can also be opened in a browser. Closing the window cancels the
// install, which stops cleanly; after the install the window stays until
// the donor closes it. When ctx ends the window closes.
func Window(ctx context.Context, opts install.Options, out io.Writer) (*install.Result, error) {
	if !canOpenWindow() {
		return nil, ErrNoWindow
	}
	srv, err := bridge.New(DonorPage())
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	w := webview.New(false)
	out = &lockedWriter{w: out}
	srv.OnPage(func() { fmt.Fprintln(out, "Page connected.") })
	fmt.Fprintf(out, "UI: %s\n", srv.URL())
	w.SetTitle("Seattle installer")
	w.SetSize(760, 680, webview.HintNone)
	w.Navigate(srv.URL())

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		res *install.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := session(sctx, srv, opts, "webview")
		done <- outcome{res, err}
	}()

	// ctx ending (Ctrl-C, SIGTERM) closes the window; Terminate must run on
	// the window's thread, and never after Destroy.
	var mu sync.Mutex
	closed := false
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			mu.Lock()
			if !closed {
				w.Dispatch(w.Terminate)
			}
			mu.Unlock()
		case <-stop:
		}
	}()
	w.Run()
	mu.Lock()
	closed = true
	mu.Unlock()
	close(stop)
	w.Destroy()
	cancel() // the window is gone: cancel the install or the wait for start
	o := <-done
	return o.res, o.err
}
