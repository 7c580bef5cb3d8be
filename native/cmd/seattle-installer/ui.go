package main

// The graphical install: the donor page over the bridge, in the system
// browser here and in a native window in ui_webview.go (cgo builds only).

import (
	"context"
	"fmt"

	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/ui"
	"github.com/seattletestbed/seattle-installer/native/ui/headless"
)

func init() {
	graphicalUIs["browser"] = runBrowserUI
	defaultUI = ui.Default
}

// runBrowserUI prints "UI: http://127.0.0.1:PORT/#SECRET", opens the browser
// there unless noOpen, and waits for the page to press Install.
func runBrowserUI(ctx context.Context, e *env, opts install.Options, noOpen bool) int {
	res, err := ui.Browser(ctx, opts, noOpen, e.stdout)
	return reportUI(e, res, err)
}

// reportUI ends a graphical install on the terminal too: the page has
// already shown the outcome, but scripts and logs read this.
func reportUI(e *env, res *install.Result, err error) int {
	if err != nil {
		msg := err.Error()
		if res != nil && res.Message != "" {
			msg = headless.Explain(res)
		}
		fmt.Fprintf(e.stderr, "install: %s\n", msg)
		return exitFail
	}
	fmt.Fprintln(e.stdout, res.Message)
	if res.Node != nil {
		for _, line := range res.Node.Summary {
			fmt.Fprintln(e.stdout, line)
		}
	}
	return exitOK
}
