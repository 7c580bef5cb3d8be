// Package ui shows the install to the donor in a page served over the
// bridge: in a native window (webview builds) or in the system browser. It
// adapts the install's Observer and Prompter to bridge messages, and starts
// the install only when the page sends start.
package ui

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"runtime"
	"strings"

	"github.com/seattletestbed/seattle-installer/web"
)

// ErrCancelled is returned when the donor cancelled, or closed the window or
// the program, before the install started.
var ErrCancelled = errors.New("the install was cancelled before it started")

// Default picks the mode when the donor gave none: the window when this
// binary has one and a display exists, else the browser when a display
// exists, else "none" (the terminal).
func Default() string { return defaultFor(runtime.GOOS, os.Getenv, HasWindow) }

func defaultFor(goos string, getenv func(string) string, hasWindow bool) string {
	display := goos == "darwin" || goos == "windows" ||
		getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
	switch {
	case display && hasWindow:
		return "webview"
	case display:
		return "browser"
	}
	return "none"
}

// Page serves the donor page from files (web.Files() in the binary): / is
// donor/index.html, the page's own assets sit beside it, and what it shares
// with the builder's pages is at /common.css (the stylesheet), and
// /validator.wasm and /wasm_exec.js (the validator).
// Nothing else of files is reachable, and there are no directory listings.
func Page(files fs.FS) http.Handler {
	fileServer := http.FileServer(http.FS(pageFS{files}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		fileServer.ServeHTTP(w, r)
	})
}

// DonorPage is Page of the files embedded in the binary.
func DonorPage() http.Handler { return Page(web.Files()) }

type pageFS struct{ root fs.FS }

func (p pageFS) Open(name string) (fs.File, error) {
	switch name {
	case "validator.wasm", "wasm_exec.js", "common.css":
		return p.root.Open(name)
	case ".":
		return p.root.Open("donor")
	}
	return p.root.Open("donor/" + name)
}
