//go:build cgo && !nowebview && !(linux || freebsd || openbsd || netbsd)

package ui

import "unsafe"

// canOpenWindow: macOS and Windows always have a desktop to open a window on.
func canOpenWindow() bool { return true }

// workArea: unknown here; the window opens at its preferred size.
func workArea() (x, y, width, height int) { return 0, 0, 0, 0 }

// placeWindow: the system places the window.
func placeWindow(win unsafe.Pointer, x, y int) {}

// keepSize: the system sizes the window as asked.
func keepSize(win unsafe.Pointer, width, height int) {}
