package ui

// The window's size: its preferred size, but never more than the screen's
// work area (so that its buttons are never off-screen), and resizable down
// to a minimum that fits an 800×600 screen with room for panels.

const (
	preferredWidth, preferredHeight = 960, 820
	minWidth, minHeight             = 360, 480
	// screenMargin is left free around the window when the screen is
	// smaller than the preferred size, for the window's frame; more
	// below and above, for its title bar.
	screenMargin  = 40
	screenMarginY = 80
)

// placeOnScreen centres a w×h window on the work area at x, y of workW ×
// workH; ok is false when the work area is unknown.
func placeOnScreen(x, y, workW, workH, w, h int) (px, py int, ok bool) {
	if workW <= 0 || workH <= 0 {
		return 0, 0, false
	}
	return x + max(0, (workW-w)/2), y + max(0, (workH-h)/2), true
}

// fitWindow returns the size to open the window at on a work area of
// workW×workH (0 when unknown).
func fitWindow(workW, workH int) (w, h int) {
	w, h = preferredWidth, preferredHeight
	if workW > 0 && w > workW-screenMargin {
		w = workW - screenMargin
	}
	if workH > 0 && h > workH-screenMarginY {
		h = workH - screenMarginY
	}
	return max(w, minWidth), max(h, minHeight)
}
