package ui

import "testing"

func TestWindowFitsTheScreen(t *testing.T) {
	for _, tc := range []struct{ workW, workH, w, h int }{
		{0, 0, preferredWidth, preferredHeight}, // unknown: the preferred size
		{1920, 1050, preferredWidth, preferredHeight},
		{800, 570, 760, 490}, // an 800×600 screen with a panel
		{1024, 738, preferredWidth, 658},
		{300, 300, minWidth, minHeight}, // smaller than the minimum: the minimum
	} {
		w, h := fitWindow(tc.workW, tc.workH)
		if w != tc.w || h != tc.h {
			t.Errorf("fitWindow(%d, %d) = %d×%d, want %d×%d", tc.workW, tc.workH, w, h, tc.w, tc.h)
		}
	}
	if x, y, ok := placeOnScreen(0, 0, 800, 600, 760, 520); !ok || x != 20 || y != 40 {
		t.Errorf("placeOnScreen on 800x600 = %d, %d, %v", x, y, ok)
	}
	if _, _, ok := placeOnScreen(0, 0, 0, 0, 760, 520); ok {
		t.Error("placed on an unknown screen")
	}
	if minWidth > 800-screenMargin || minHeight > 600-screenMarginY {
		t.Errorf("the minimum %d×%d does not fit an 800×600 screen", minWidth, minHeight)
	}
}
