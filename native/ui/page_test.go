package ui

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

// axePath is axe-core as npm installed it (scripts/install-deps, pinned by
// testdata/axe/package-lock.json).
const axePath = "testdata/axe/node_modules/axe-core/axe.min.js"

// screen is a size the page must work at; zoom 2 is a browser at 200 %.
type screen struct {
	name          string
	width, height int64
	zoom          float64
}

var screens = []screen{
	{"360x640", 360, 640, 1},
	{"400x700", 400, 700, 1},
	{"1280x800", 1280, 800, 1},
	{"1920x1080", 1920, 1080, 1},
	{"1280x800-zoom200", 640, 400, 2}, // a 1280×800 window at 200 % zoom
}

// checkStage checks the page as it stands: no label cut short, nothing the
// donor needs out of reach sideways, keyboard focus visible, and axe-core
// finds no serious or critical violation; then saves a screenshot.
func checkStage(t *testing.T, ctx context.Context, axe, shots string, sc screen, stage string) {
	t.Helper()
	what := sc.name + " " + stage
	bad := chrometest.Eval[[]string](t, ctx, `(() => {
		const out = [];
		const de = document.documentElement;
		if (de.scrollWidth > de.clientWidth + 1) out.push('the page is ' + de.scrollWidth + ' px wide in a ' + de.clientWidth + ' px window');
		const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden' && !el.closest('[hidden]') && !el.closest('dialog:not([open])') && !el.closest('details:not([open]) > :not(summary)');
		for (const el of document.querySelectorAll('body *')) {
			if (!visible(el) || el.closest('svg') || el.closest('.sr-only') || ['INPUT', 'SELECT', 'TEXTAREA', 'PRE', 'svg', 'SCRIPT', 'STYLE'].includes(el.tagName)) continue;
			const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
			if (own && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) out.push('"' + el.textContent.trim().slice(0, 40) + '" (' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ') is cut: ' + el.scrollWidth + ' > ' + el.clientWidth);
		}
		for (const el of document.querySelectorAll('button, input, summary, a[href], [tabindex]')) {
			if (!visible(el)) continue;
			const r = el.getBoundingClientRect();
			if (r.left < -1 || r.right > innerWidth + 1) out.push((el.id || el.textContent.trim().slice(0, 30) || el.tagName) + ' is outside the window sideways (' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + innerWidth + ')');
			if (r.width < 1 || r.height < 1) out.push((el.id || el.tagName) + ' has no size');
		}
		return out;
	})()`)
	for _, b := range bad {
		t.Errorf("%s: %s", what, b)
	}
	// Keyboard focus is visible: Tab to the first control; it gets the
	// page's 3 px outline.
	chrometest.Eval[bool](t, ctx, `(() => { document.activeElement && document.activeElement.blur(); return true; })()`)
	chrometest.Do(t, ctx, "press Tab", chromedp.KeyEvent(kb.Tab))
	outline := chrometest.Eval[string](t, ctx, `(() => {
		const el = document.activeElement;
		if (!el || el === document.body) return 'nothing took the focus';
		const cs = getComputedStyle(el);
		return (el.id || el.tagName) + ': ' + cs.outlineStyle + ' ' + cs.outlineWidth;
	})()`)
	if !strings.HasSuffix(outline, ": solid 3px") {
		t.Errorf("%s: keyboard focus shows as %q, want a 3px outline", what, outline)
	}
	chrometest.Eval[bool](t, ctx, `(() => { document.activeElement && document.activeElement.blur(); return true; })()`)
	if !chrometest.Eval[bool](t, ctx, `!!window.axe`) {
		chrometest.Eval[bool](t, ctx, axe+"\n;true")
	}
	violations := chrometest.Eval[[]string](t, ctx, `(async () => {
		const r = await axe.run(document, { resultTypes: ['violations'] });
		return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
			.map((v) => v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
	})()`)
	for _, v := range violations {
		t.Errorf("%s: axe: %s", what, v)
	}
	chrometest.Screenshot(t, ctx, shots, sc.name+"-"+stage)
}

// TestDonorPageAtEverySize drives the real page in Chromium through every
// stage (review, prompt, progress, cancel, summary, uninstall, failure) at
// phone, small, laptop and large sizes and at 200 % zoom, against real
// sessions, and checks each as checkStage says (at the phone's size only
// under an emulator: see testbin.Emulated).
func TestDonorPageAtEverySize(t *testing.T) {
	src, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("%v: run scripts/install-deps (it installs axe-core with npm)", err)
	}
	axe := string(src)
	shots := chrometest.ScreenshotDir(t)
	ctx := chrometest.New(t, 1280, 800)
	sizes := screens
	if testbin.Emulated() {
		// The page and Chromium are the same for every GOARCH: under qemu
		// the host side is what differs, and one size (the phone's)
		// exercises it; the native run checks every size.
		sizes = screens[:1]
		t.Logf("under an emulator: the page at %s only (every size in the native run)", sizes[0].name)
	}
	for _, sc := range sizes {
		t.Run(sc.name, func(t *testing.T) {
			chrometest.Do(t, ctx, "set the size", chromedp.EmulateViewport(sc.width, sc.height, chromedp.EmulateScale(sc.zoom)))
			open := func(opts install.Options) {
				srv, _, _ := windowSession(t, opts)
				chrometest.Do(t, ctx, "open the page", chromedp.Navigate("about:blank"), chromedp.Navigate(srv.URL()))
				waitLoaded(t, ctx, `document.body.dataset.stage === 'before' && (document.body.dataset.plan === 'ok' || document.body.dataset.vessels === 'invalid')`)
			}

			// A failed measurement: the review shows it and the default; the
			// page is made to ask (as a page without the review would), then
			// the donor cancels.
			open(options(t, true))
			// The default of a failed filewrite: a twentieth on 32-bit ARM
			// (SPEC.md), as this test sees under qemu-arm.
			filewrite := "File writing: 1.2 MB/s at most"
			if runtime.GOARCH == "arm" {
				filewrite = "File writing: 60 kB/s at most"
			}
			if got := chrometest.Text(t, ctx, "#review-failures"); !strings.Contains(got, filewrite) {
				t.Errorf("the review shows the failed measurement as %q", got)
			}
			checkStage(t, ctx, axe, shots, sc, "1-review")
			chrometest.Eval[bool](t, ctx, `(() => { const s = WebSocket.prototype.send; WebSocket.prototype.send = function (d) { return s.call(this, d.replace('"defaults":true', '"defaults":false')); }; document.getElementById('install').click(); return true; })()`)
			chrometest.WaitFor(t, ctx, "the question", `document.getElementById('prompt').open`, 20*time.Second)
			checkStage(t, ctx, axe, shots, sc, "2-prompt")
			chrometest.Eval[bool](t, ctx, `(() => { document.getElementById('prompt').close(); return true; })()`)
			checkStage(t, ctx, axe, shots, sc, "3-progress")
			chrometest.Do(t, ctx, "press Cancel", chromedp.Click(chromedp.CSS("#cancel")))
			chrometest.WaitFor(t, ctx, "the cancelled result", `document.body.dataset.result === 'neutral'`, 20*time.Second)
			if got := chrometest.Text(t, ctx, "#after"); strings.Contains(got, "send") || !strings.Contains(got, "Try again") {
				t.Errorf("a cancel reads %q: it must not ask to send a log, and must offer Try again", got)
			}
			checkStage(t, ctx, axe, shots, sc, "4-cancel")

			// Install, then Uninstall from the summary.
			opts := options(t, false)
			open(opts)
			chrometest.Do(t, ctx, "press Install", chromedp.Click(chromedp.CSS("#install")))
			chrometest.WaitFor(t, ctx, "the summary", `document.body.dataset.result === 'ok'`, 20*time.Second)
			checkStage(t, ctx, axe, shots, sc, "5-summary")
			chrometest.Do(t, ctx, "press Uninstall", chromedp.Click(chromedp.CSS(`#after-actions button[data-action="uninstall"]`)))
			chrometest.WaitFor(t, ctx, "the uninstall", `document.getElementById('after-title').textContent === 'Uninstalled'`, 20*time.Second)
			checkStage(t, ctx, axe, shots, sc, "6-uninstall")
			if _, err := os.Stat(filepath.Join(opts.Dir, "vesseldict")); err == nil {
				t.Error("Uninstall left the vesseldict")
			}

			// A failure: the install directory cannot be created.
			opts = options(t, false)
			blocker := filepath.Join(t.TempDir(), "a-file")
			os.WriteFile(blocker, nil, 0o644)
			opts.Dir = filepath.Join(blocker, "node")
			open(opts)
			chrometest.Do(t, ctx, "press Install", chromedp.Click(chromedp.CSS("#install")))
			chrometest.WaitFor(t, ctx, "the failure", `document.body.dataset.result === 'failed'`, 20*time.Second)
			checkStage(t, ctx, axe, shots, sc, "7-failure")
		})
	}
}

// waitLoaded waits for js to be true in a page that may still be loading:
// evaluation errors while it navigates are retried.
func waitLoaded(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never got to %s (%v)", js, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
