//go:build cgo && !nowebview

package ui

import (
	"fmt"
	"io"
	"os"

	webview "github.com/webview/webview_go"
)

// LayoutProbeEnv is the test-only seam through which the tests of the real
// window see what the donor sees: with SEATTLE_INSTALLER_TEST_LAYOUT=1 the
// window's page reports, whenever it changes, its stage, its viewport
// (innerWidth × innerHeight) and where each visible button lies in it
// (getBoundingClientRect, and whether it is the topmost element at its
// centre), as one line on standard error: "layout: {JSON}". WebKitGTK has
// no remote protocol a test could ask, and pixel colours cannot tell a
// button from another. Unset (always, outside tests) nothing is added to
// the page.
const LayoutProbeEnv = "SEATTLE_INSTALLER_TEST_LAYOUT"

// layoutProbe runs in the page before its own scripts, on every load.
const layoutProbe = `(() => {
  let last = '';
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden' &&
    !el.closest('[hidden]') && !el.closest('dialog:not([open])');
  const report = () => {
    if (!document.body || typeof window.seattleTestLayout !== 'function') return;
    const controls = [];
    for (const el of document.querySelectorAll('button')) {
      if (!shown(el)) continue;
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      controls.push({ id: el.id, action: el.dataset.action || '', text: el.textContent.trim(),
        x: r.left, y: r.top, w: r.width, h: r.height, onTop: !!hit && (hit === el || el.contains(hit)) });
    }
    const b = document.body.dataset;
    const s = JSON.stringify({ stage: b.stage || '', result: b.result || '', plan: b.plan || '',
      width: innerWidth, height: innerHeight, scale: devicePixelRatio,
      screen: screen.width + 'x' + screen.height + ', available ' + screen.availWidth + 'x' + screen.availHeight, controls });
    if (s !== last) { last = s; window.seattleTestLayout(s); }
  };
  setInterval(report, 200);
})();`

// probeLayout adds the layout probe to w when the test seam asks for it,
// and says on stderr which size the window asked for on which work area.
func probeLayout(w webview.WebView, stderr io.Writer, width, height, areaX, areaY, areaW, areaH int) {
	if os.Getenv(LayoutProbeEnv) != "1" {
		return
	}
	fmt.Fprintf(stderr, "window: %dx%d on a work area of %dx%d at %d,%d\n", width, height, areaW, areaH, areaX, areaY)
	w.Bind("seattleTestLayout", func(report string) {
		fmt.Fprintf(stderr, "layout: %s\n", report)
	})
	w.Init(layoutProbe)
}
