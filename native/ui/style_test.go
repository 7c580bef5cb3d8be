package ui

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/seattletestbed/seattle-installer/native/builder"
	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
	"github.com/seattletestbed/seattle-installer/web"
	"github.com/seattletestbed/seattle-installer/web/upload"
)

// stylesheets are the hrefs of a page's <link rel="stylesheet">, in order.
var stylesheets = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`)

// get fetches u and returns its body (gzip undone) and Content-Type.
func get(t *testing.T, u string) ([]byte, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return b, resp.Header.Get("Content-Type")
}

// startBuilder serves the builder's pages from a real builder (without base
// installers: the pages do not need them).
func startBuilder(t *testing.T) string {
	t.Helper()
	b, err := builder.New(builder.Config{DataDir: filepath.Join(t.TempDir(), "data"), BaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	hs := httptest.NewServer(b.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestPagesShareOneStylesheet: the donor's install window and the builder's
// pages load one stylesheet for their common parts, web/common.css, first,
// and both programs serve it byte for byte; it alone holds the vessels'
// colours; and in Chromium vessel N has the same colour on both pages, and
// the common parts (type, the primary button, the focus ring) look alike.
func TestPagesShareOneStylesheet(t *testing.T) {
	common, err := fs.ReadFile(web.Files(), "common.css")
	if err != nil {
		t.Fatal(err)
	}
	donor, _, _ := windowSession(t, options(t, false))
	donorBase, _, _ := strings.Cut(donor.URL(), "#")
	builderBase := startBuilder(t) + "/"

	// Each page links common.css first, then its own stylesheet; each
	// server sends common.css as text/css, the same bytes as the file.
	pages := []struct{ name, url, own string }{
		{"the install window", donorBase, "donor.css"},
		{"the builder's upload page", builderBase, "app.css"},
		{"the builder's error page", builderBase + "no-such-page", "app.css"},
	}
	for _, p := range pages {
		html, _ := get(t, p.url)
		links := stylesheets.FindAllStringSubmatch(string(html), -1)
		if len(links) != 2 {
			t.Errorf("%s links %d stylesheets, want common.css and %s:\n%s", p.name, len(links), p.own, html)
			continue
		}
		for i, want := range []string{"common", strings.TrimSuffix(p.own, ".css")} {
			// The builder serves them under content-hashed names:
			// /assets/common.0123456789.css.
			if name := path.Base(links[i][1]); !regexp.MustCompile(`^` + want + `(\.[0-9a-f]{10})?\.css$`).MatchString(name) {
				t.Errorf("%s's stylesheet %d is %s, want %s.css", p.name, i+1, links[i][1], want)
			}
		}
		base, _ := url.Parse(p.url)
		ref, _ := url.Parse(links[0][1])
		body, ctype := get(t, base.ResolveReference(ref).String())
		if string(body) != string(common) {
			t.Errorf("%s's %s is not web/common.css: %d bytes, want %d", p.name, links[0][1], len(body), len(common))
		}
		if ctype != "text/css; charset=utf-8" {
			t.Errorf("%s's %s is sent as %q", p.name, links[0][1], ctype)
		}
	}

	// The palette is only in common.css: no page's own file defines a
	// vessel colour or keeps a copy of one.
	var palette []string
	for n := 1; ; n++ {
		m := regexp.MustCompile(`--vessel-` + strconv.Itoa(n) + `:\s*(#[0-9a-f]{6});`).FindSubmatch(common)
		if m == nil {
			break
		}
		palette = append(palette, string(m[1]))
	}
	if len(palette) < 8 {
		t.Fatalf("common.css defines %d vessel colours (--vessel-N), want at least 8", len(palette))
	}
	own := map[string]fs.FS{"web/donor": mustSub(t, web.Files(), "donor"), "web/upload": upload.Files()}
	for dir, files := range own {
		fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !regexp.MustCompile(`\.(css|js|html)$`).MatchString(name) {
				return err
			}
			b, _ := fs.ReadFile(files, name)
			if regexp.MustCompile(`--vessel-\d+\s*:`).Match(b) {
				t.Errorf("%s/%s defines a vessel colour of its own", dir, name)
			}
			for _, c := range palette {
				if strings.Contains(strings.ToLower(string(b)), c) {
					t.Errorf("%s/%s holds a copy of the vessel colour %s", dir, name, c)
				}
			}
			return nil
		})
	}

	// In Chromium: the colour each page draws vessel N in, and how the
	// common parts look.
	shots := chrometest.ScreenshotDir(t)
	ctx := chrometest.New(t, 1280, 900)
	const looks = `(() => {
		const cs = (sel) => getComputedStyle(document.querySelector(sel));
		const p = cs('button.primary'), b = cs('body');
		return [
			'type: ' + b.fontFamily + ', ink ' + b.color + ' on ' + getComputedStyle(document.documentElement).backgroundColor,
			'primary button: ' + p.backgroundColor + ', text ' + p.color + ', ' + p.fontWeight + ', corners ' + p.borderTopLeftRadius,
		];
	})()`
	const focusRing = `(() => { const el = document.activeElement, cs = getComputedStyle(el); return (el.id || el.tagName) + ': ' + cs.outlineStyle + ' ' + cs.outlineWidth + ' ' + cs.outlineColor + ' offset ' + cs.outlineOffset; })()`
	ring := func(page string) string {
		chrometest.Eval[bool](t, ctx, `(() => { document.activeElement && document.activeElement.blur(); return true; })()`)
		chrometest.Do(t, ctx, "press Tab on "+page, chromedp.KeyEvent(kb.Tab))
		r := chrometest.Eval[string](t, ctx, focusRing)
		_, r, _ = strings.Cut(r, ": ")
		return r
	}

	chrometest.Do(t, ctx, "open the install window's page", chromedp.Navigate(donor.URL()))
	waitLoaded(t, ctx, `document.body.dataset.stage === 'before' && document.body.dataset.plan === 'ok'`)
	donorColours := chrometest.Eval[[][]string](t, ctx, `[
		[...document.querySelectorAll('#vessels td.name .swatch')].map((e) => getComputedStyle(e).backgroundColor),
		[...document.querySelectorAll('#review-legend .swatch')].map((e) => getComputedStyle(e).backgroundColor),
		[...document.querySelectorAll('#review-chart svg')[0].querySelectorAll('rect')].map((e) => getComputedStyle(e).fill),
	]`)
	donorLooks := chrometest.Eval[[]string](t, ctx, looks)
	donorRing := ring("the install window")
	chrometest.Screenshot(t, ctx, shots, "style-install-window")

	vesselinfo, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	chrometest.Do(t, ctx, "open the builder's page", chromedp.Navigate(builderBase))
	chrometest.WaitFor(t, ctx, "the validator", `document.querySelector('#status').textContent.startsWith('Write, paste or drop')`, 60*time.Second)
	chrometest.Do(t, ctx, "focus the editor", chromedp.Focus(chromedp.CSS("#text")))
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: string(vesselinfo)}); err != nil {
		t.Fatalf("paste: %v", err)
	}
	chrometest.WaitFor(t, ctx, "the sample to be valid", `document.querySelector('#status').textContent.startsWith('Valid: 4 vessels')`, 30*time.Second)
	builderColours := chrometest.Eval[[][]string](t, ctx, `[
		[...document.querySelectorAll('#split-legend .swatch rect')].map((e) => getComputedStyle(e).fill),
		[...document.querySelectorAll('#split-picture svg > rect')].map((e) => getComputedStyle(e).fill),
	]`)
	builderLooks := chrometest.Eval[[]string](t, ctx, looks)
	builderRing := ring("the builder's page")
	chrometest.Screenshot(t, ctx, shots, "style-builder")

	var want []string
	for _, c := range palette[:4] {
		r, _ := strconv.ParseUint(c[1:3], 16, 8)
		g, _ := strconv.ParseUint(c[3:5], 16, 8)
		b, _ := strconv.ParseUint(c[5:7], 16, 8)
		want = append(want, fmt.Sprintf("rgb(%d, %d, %d)", r, g, b))
	}
	drawn := map[string][]string{
		"the install window's vessel list": donorColours[0],
		"the install window's legend":      donorColours[1][:min(4, len(donorColours[1]))], // then the cost's grey
		"the install window's chart":       donorColours[2][:min(4, len(donorColours[2]))],
		"the builder's legend":             builderColours[0],
		"the builder's picture":            builderColours[1],
	}
	for where, got := range drawn {
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s draws the 4 vessels in %q, want %q (common.css)", where, got, want)
		}
	}
	for i := range donorLooks {
		if i >= len(builderLooks) || donorLooks[i] != builderLooks[i] {
			t.Errorf("the pages differ in a common part:\n install window: %s\n builder:        %s", donorLooks[i], builderLooks[min(i, len(builderLooks)-1)])
		}
	}
	if donorRing != builderRing || !strings.HasPrefix(donorRing, "solid 3px") {
		t.Errorf("keyboard focus: the install window shows %q, the builder %q; want the same 3px ring", donorRing, builderRing)
	}
	t.Logf("vessels %q; %q; focus %s", want, donorLooks, donorRing)
}

func mustSub(t *testing.T, f fs.FS, dir string) fs.FS {
	t.Helper()
	sub, err := fs.Sub(f, dir)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}
