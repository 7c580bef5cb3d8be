//go:build !cgo || nowebview

package ui

import (
	"context"
	"errors"
	"io"

	"github.com/seattletestbed/seattle-installer/native/install"
)

// HasWindow reports whether this binary can open a native window. Builds
// without cgo (cross-compiled installers) or with the nowebview tag cannot.
const HasWindow = false

// ErrNoWindow is returned by Window when there is no window to open.
var ErrNoWindow = errors.New("this build has no native window (built without cgo or with the nowebview tag): use --ui browser")

// Window is not available in this build; it returns ErrNoWindow.
func Window(ctx context.Context, opts install.Options, out io.Writer) (*install.Result, error) {
	return nil, ErrNoWindow
}
