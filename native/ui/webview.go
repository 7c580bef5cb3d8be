//go:build cgo && !nowebview

package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
// the page can also be opened in a browser, where it watches the install
// and can take control only if the window agrees. Closing the window cancels the
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
	// The window's page gets a one-time launch token, not the secret: the
	// first page to connect controls the install, and that is the window.
	launchURL, err := srv.LaunchURL()
	if err != nil {
		return nil, err
	}
	w := webview.New(false)
	out = &lockedWriter{w: out}
	srv.OnPage(func() { fmt.Fprintln(out, "Page connected.") })
	srv.OnView(func() { fmt.Fprintln(out, watcherNotice) })
	fmt.Fprintf(out, "UI: %s\n", srv.URL())
	w.SetTitle("Seattle installer")
	// Fit the screen it opens on: never larger than the work area, so the
	// buttons are never off-screen; resizable, down to a minimum that fits
	// 800×600.
	ax, ay, aw, ah := workArea()
	ww, wh := fitWindow(aw, ah)
	w.SetSize(minWidth, minHeight, webview.HintMin)
	w.SetSize(ww, wh, webview.HintNone)
	keepSize(w.Window(), ww, wh)
	if x, y, ok := placeOnScreen(ax, ay, aw, ah, ww, wh); ok {
		placeWindow(w.Window(), x, y)
	}
	probeLayout(w, os.Stderr, ww, wh, ax, ay, aw, ah)
	w.Navigate(launchURL)

	// ctx ending (Ctrl-C, SIGTERM) or the page's Close closes the window;
	// Terminate must run on the window's thread, and never after Destroy.
	var mu sync.Mutex
	closed := false
	terminate := func() {
		mu.Lock()
		if !closed {
			w.Dispatch(w.Terminate)
		}
		mu.Unlock()
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		res *install.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := session(sctx, srv, opts, "webview", terminate)
		done <- outcome{res, err}
	}()

	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			terminate()
		case <-stop:
		}
	}()
	w.Run()
	mu.Lock()
	closed = true
	mu.Unlock()
	close(stop)
	w.Destroy()
	// Run returns on its own only when the donor closed the window (the
	// window manager's close, WM_DELETE_WINDOW); ctx ending goes through
	// Terminate above.
	byDonor := ctx.Err() == nil
	cancel() // the window is gone: cancel the install or the wait for start
	o := <-done
	if byDonor {
		return windowClosed(o.res, o.err)
	}
	return o.res, o.err
}

// errWindowClosed is ErrCancelled (errors.Is) worded for a donor who closed
// the window before pressing Install: the terminal says what happened.
var errWindowClosed error = windowClosedError{}

type windowClosedError struct{}

func (windowClosedError) Error() string {
	return "the window was closed before Install was pressed; nothing was written"
}

func (windowClosedError) Is(target error) bool { return target == ErrCancelled }

// windowClosed words the outcome of an install whose window the donor
// closed: before Install, errWindowClosed; during the install, whose
// cancellation wraps context.Canceled, the install's own message (what was
// and was not written, where the log is) after saying why it stopped. An
// install that had already ended, well or not, is left as it was.
func windowClosed(res *install.Result, err error) (*install.Result, error) {
	switch {
	case errors.Is(err, ErrCancelled):
		return res, errWindowClosed
	case errors.Is(err, context.Canceled) && res != nil && !res.OK:
		r := *res
		r.Message = "The window was closed, so the install stopped. " + r.Message
		return &r, err
	}
	return res, err
}
