//go:build cgo && !nowebview && !(linux || freebsd || openbsd || netbsd)

package ui

// canOpenWindow: macOS and Windows always have a desktop to open a window on.
func canOpenWindow() bool { return true }

// workArea: unknown here; the window opens at its preferred size.
func workArea() (width, height int) { return 0, 0 }
