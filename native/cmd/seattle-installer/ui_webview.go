//go:build cgo && !nowebview

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/ui"
)

func init() {
	graphicalUIs["webview"] = runWindowUI
}

// runWindowUI shows the page in a native window; without a display it
// falls back to the browser mode, which at least prints the address.
// It runs on the main goroutine, which webview_go keeps on the main thread.
func runWindowUI(ctx context.Context, e *env, opts install.Options, noOpen bool) int {
	res, err := ui.Window(ctx, opts, e.stdout)
	if errors.Is(err, ui.ErrNoWindow) {
		fmt.Fprintf(e.stderr, "install: %v; using the browser instead\n", err)
		return runBrowserUI(ctx, e, opts, noOpen)
	}
	return reportUI(e, res, err)
}
