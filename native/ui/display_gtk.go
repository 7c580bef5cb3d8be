//go:build cgo && !nowebview && (linux || freebsd || openbsd || netbsd)

package ui

/*
#cgo pkg-config: gtk+-3.0
#include <gtk/gtk.h>
*/
import "C"

import "unsafe"

// canOpenWindow asks GTK whether it can reach the display. webview_go does
// the same inside, but then hands back a window that crashes on first use;
// asking first turns "no display" into ErrNoWindow. Calling it again after
// GTK is up is harmless.
func canOpenWindow() bool {
	return C.gtk_init_check(nil, nil) != 0
}

// workArea is the usable part (without panels and docks) of the monitor the
// window opens on, the primary one; all 0 when GTK cannot tell.
func workArea() (x, y, width, height int) {
	d := C.gdk_display_get_default()
	if d == nil {
		return 0, 0, 0, 0
	}
	m := C.gdk_display_get_primary_monitor(d)
	if m == nil {
		m = C.gdk_display_get_monitor(d, 0)
	}
	if m == nil {
		return 0, 0, 0, 0
	}
	var r C.GdkRectangle
	C.gdk_monitor_get_workarea(m, &r)
	return int(r.x), int(r.y), int(r.width), int(r.height)
}

// placeWindow moves the window (a GtkWindow) to x, y: window managers
// place new windows as they like, sometimes partly off a small screen.
func placeWindow(win unsafe.Pointer, x, y int) {
	if win == nil {
		return
	}
	C.gtk_window_move((*C.GtkWindow)(win), C.gint(x), C.gint(y))
}
