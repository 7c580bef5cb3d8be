//go:build cgo && !nowebview && !(linux || freebsd || openbsd || netbsd)

package ui

// canOpenWindow: macOS and Windows always have a desktop to open a window on.
func canOpenWindow() bool { return true }
