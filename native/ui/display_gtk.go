//go:build cgo && !nowebview && (linux || freebsd || openbsd || netbsd)

package ui

/*
#cgo pkg-config: gtk+-3.0
#include <gtk/gtk.h>

// The size the window was asked to open at, kept until it has it.
typedef struct { int width, height, left; gint64 until; } seattle_size;

// seattle_on_configure asks again for the window's size each time the
// window manager gives it less, during its first 30 s and 10 times at most
// (the first configure events still carry GTK's default 200x200, several
// of them at once), and lets go once it has the size: from then on the
// donor's own resizing is left alone.
static gboolean seattle_on_configure(GtkWidget *widget, GdkEventConfigure *e, gpointer data) {
	seattle_size *want = data;
	if (want->left <= 0 || g_get_monotonic_time() > want->until) return FALSE;
	if (e->width >= want->width && e->height >= want->height) {
		want->left = 0;
		return FALSE;
	}
	want->left--;
	gtk_window_resize(GTK_WINDOW(widget), want->width, want->height);
	return FALSE;
}

static void seattle_keep_size(GtkWindow *win, int width, int height) {
	seattle_size *want = g_new0(seattle_size, 1);
	want->width = width;
	want->height = height;
	want->left = 10;
	want->until = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	g_signal_connect_data(win, "configure-event", G_CALLBACK(seattle_on_configure), want, (GClosureNotify)g_free, 0);
}
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

// keepSize makes sure the window (a GtkWindow, already shown) gets the
// size it was asked to open at: a resize asked for while the window
// manager is still taking the window can be lost, and the window then
// stays at its minimum (seen under openbox on a 1920×1080 screen: 360×480,
// with Install out of sight). Each configure event smaller than that asks
// again (see seattle_on_configure), until the window has the size.
func keepSize(win unsafe.Pointer, width, height int) {
	if win == nil {
		return
	}
	C.seattle_keep_size((*C.GtkWindow)(win), C.int(width), C.int(height))
}
