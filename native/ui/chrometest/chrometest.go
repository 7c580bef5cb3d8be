// Package chrometest starts the real Chromium (Debian's /usr/bin/chromium)
// headless under chromedp for the tests and benchmarks of the donor page,
// and saves screenshots where a person can look at them.
package chrometest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath is the browser the tests drive; `make deps` installs it.
const ExecPath = "/usr/bin/chromium"

// New starts a fresh headless Chromium with its own profile and returns a
// context for chromedp actions in its first tab. Both end with the test.
func New(t testing.TB, width, height int) context.Context {
	t.Helper()
	if runtime.GOOS == "windows" {
		// make test-windows runs the tests under Wine, where there is no
		// Windows Chromium to drive; the page is the same on every OS, and
		// the Linux run tests it in Chromium.
		t.Skip("no Chromium for Windows here (the tests run under Wine); the Linux run drives the page in Chromium")
	}
	if _, err := exec.LookPath(ExecPath); err != nil {
		t.Fatalf("%s is missing: run `make deps` (installs Debian's chromium): %v", ExecPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ExecPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", ExecPath, err)
	}
	return ctx
}

// ScreenshotDir is where screenshots go: $SCREENSHOT_DIR when set, else a
// fresh directory under the system's temp that outlives the test (logged,
// so a person can open the pictures).
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		d, err := os.MkdirTemp("", "seattle-ui-screenshots-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// Screenshot saves the whole page as dir/name.png.
func Screenshot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Text returns the text content of the first element matching the CSS
// selector sel.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent`, sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Eval evaluates a JavaScript expression and returns its value.
func Eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// WaitFor waits until the JavaScript expression is truthy, failing the test
// with what after timeout.
func WaitFor(t testing.TB, ctx context.Context, what, js string, timeout time.Duration) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, js, err)
	}
}

// NoOverflow fails the test when the page scrolls sideways or a visible
// element's text is wider than its box without being ellipsized.
func NoOverflow(t testing.TB, ctx context.Context, stage string) {
	t.Helper()
	bad := Eval[[]string](t, ctx, `(() => {
		const out = [];
		const de = document.documentElement;
		if (de.scrollWidth > de.clientWidth + 1) out.push('page is ' + de.scrollWidth + 'px wide in a ' + de.clientWidth + 'px window');
		for (const el of document.querySelectorAll('main *, header *')) {
			if (!el.offsetParent || el.closest('svg')) continue;
			const cs = getComputedStyle(el);
			if (el.scrollWidth > el.clientWidth + 1 && cs.overflowX === 'visible' && el.clientWidth > 0 && el.children.length === 0) {
				out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + el.textContent.slice(0, 30) + '" overflows');
			}
		}
		return out;
	})()`)
	for _, b := range bad {
		t.Errorf("%s: %s", stage, b)
	}
}

// Do runs chromedp steps, failing the test with what was being done.
func Do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
