package ui

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"sync"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/install"
)

// Browser runs the install behind the donor page in the system browser. It
// prints "UI: URL" to out (the URL holds the secret in its fragment), opens
// the browser unless noOpen, and returns when the install has ended and the
// page has the result, or when ctx ends before the page pressed Install.
func Browser(ctx context.Context, opts install.Options, noOpen bool, out io.Writer) (*install.Result, error) {
	srv, err := bridge.New(DonorPage())
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	out = &lockedWriter{w: out}
	srv.OnPage(func() { fmt.Fprintln(out, "Page connected.") })
	fmt.Fprintf(out, "UI: %s\n", srv.URL())
	if !noOpen {
		if err := openBrowser(srv.URL()); err != nil {
			fmt.Fprintf(out, "Could not open a browser (%v): open the address above yourself.\n", err)
		} else {
			fmt.Fprintln(out, "The install page is open in your browser; press Install there.")
		}
	}
	return session(ctx, srv, opts, "browser")
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

// openBrowser asks the desktop to show url. The browser stays when we exit.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	go cmd.Wait() // reap it; xdg-open returns at once
	return nil
}
