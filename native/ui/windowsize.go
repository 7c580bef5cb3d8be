package ui

// The window's size: its preferred size, but never more than the screen's
// work area (so that its buttons are never off-screen), and resizable down
// to a minimum that fits an 800×600 screen with room for panels.

const (
	preferredWidth, preferredHeight = 960, 820
	minWidth, minHeight             = 360, 480
	// screenMargin is left free around the window when the screen is
	// smaller than the preferred size, for the window's frame.
	screenMargin = 40
)

// fitWindow returns the size to open the window at on a work area of
// workW×workH (0 when unknown).
func fitWindow(workW, workH int) (w, h int) {
	w, h = preferredWidth, preferredHeight
	if workW > 0 && w > workW-screenMargin {
		w = workW - screenMargin
	}
	if workH > 0 && h > workH-screenMargin {
		h = workH - screenMargin
	}
	return max(w, minWidth), max(h, minHeight)
}
