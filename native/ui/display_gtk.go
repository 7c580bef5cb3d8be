//go:build cgo && !nowebview && (linux || freebsd || openbsd || netbsd)

package ui

/*
#cgo pkg-config: gtk+-3.0
#include <gtk/gtk.h>
*/
import "C"

// canOpenWindow asks GTK whether it can reach the display. webview_go does
// the same inside, but then hands back a window that crashes on first use;
// asking first turns "no display" into ErrNoWindow. Calling it again after
// GTK is up is harmless.
func canOpenWindow() bool {
	return C.gtk_init_check(nil, nil) != 0
}
