package builder

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

// invalidFile has two problems, on lines 4 and 5.
const invalidFile = "Percent 40\nOwner 123456789123 123456789123456789123456789\n" +
	"Percent 60\nOwner 9 3\nUser alice.publickey\n"

// TestPageInChromium drives the upload page in real headless Chromium: an
// invalid file shows its errors beside their lines and sends nothing; fixed,
// it builds, and the download link serves the archive.
func TestPageInChromium(t *testing.T) {
	s := startServer(t, Config{})
	go s.Warm(context.Background()) // as serve does, while the page loads
	ctx := chrometest.New(t, 1100, 900)
	shots := chrometest.ScreenshotDir(t)
	wait := func(what, js string) { t.Helper(); chrometest.WaitFor(t, ctx, what, js, 30*time.Second) }

	chrometest.Do(t, ctx, "open the page", chromedp.Navigate(s.url+"/"))
	wait("the validator to load", `document.querySelector('#status').textContent.startsWith('Write, paste or drop')`)
	chrometest.Screenshot(t, ctx, shots, "builder-1-empty")

	// Paste an invalid file.
	chrometest.Do(t, ctx, "focus the editor", chromedp.Focus(chromedp.CSS("#text")))
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: invalidFile}); err != nil {
		t.Fatalf("paste: %v", err)
	}
	wait("the errors", `document.querySelectorAll('#notes .note').length === 2`)
	for line, want := range map[int]string{4: "e must be smaller than n", 5: "looks like a file name"} {
		sel := `#notes .note[data-line="` + strconv.Itoa(line) + `"]`
		if got := chrometest.Text(t, ctx, sel); !strings.Contains(got, want) {
			t.Errorf("beside line %d: %q, want %q", line, got, want)
		}
		// Beside its line: the note is at the height of the line's number.
		dy := chrometest.Eval[float64](t, ctx, `Math.abs(document.querySelector('`+sel+`').getBoundingClientRect().top - document.querySelector('#gutter').children[`+strconv.Itoa(line-1)+`].getBoundingClientRect().top)`)
		if dy > 1 {
			t.Errorf("the note of line %d is %.0fpx away from the line", line, dy)
		}
		if cls := chrometest.Eval[string](t, ctx, `document.querySelector('#gutter').children[`+strconv.Itoa(line-1)+`].className`); cls != "bad" {
			t.Errorf("line number %d is not marked: class %q", line, cls)
		}
	}
	if !chrometest.Eval[bool](t, ctx, `document.querySelector('#build').disabled`) {
		t.Error("Build is enabled while the file is invalid")
	}
	// Even a click on the disabled button sends nothing.
	chrometest.Eval[bool](t, ctx, `document.querySelector('#build').click(), true`)
	chrometest.Screenshot(t, ctx, shots, "builder-2-invalid")
	if c := s.Counters(); c.Posts != 0 {
		t.Fatalf("%d uploads while the file was invalid, want none", c.Posts)
	}

	// Fix it: select everything and paste the corrected file.
	fixed := strings.Replace(strings.Replace(invalidFile, "Owner 9 3", "Owner 3 9", 1), "User alice.publickey\n", "User 23456789123 23456789123456789123456789\n", 1)
	chrometest.Eval[bool](t, ctx, `document.querySelector('#text').select(), true`)
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: fixed}); err != nil {
		t.Fatalf("paste: %v", err)
	}
	wait("valid", `document.querySelector('#status').textContent.startsWith('Valid: 2 vessels, 1 user key')`)
	if n := chrometest.Eval[int](t, ctx, `document.querySelectorAll('#split-picture svg rect').length`); n != 2 {
		t.Errorf("the picture of the split has %d bars, want 2", n)
	}
	if got := chrometest.Text(t, ctx, "#split-legend"); !strings.Contains(got, "v1 · 40%") || !strings.Contains(got, "v2 · 60%") {
		t.Errorf("legend %q", got)
	}
	chrometest.Screenshot(t, ctx, shots, "builder-3-valid")
	if c := s.Counters(); c.Posts != 0 {
		t.Fatalf("%d uploads before Build was pressed, want none", c.Posts)
	}

	// Build.
	chrometest.Do(t, ctx, "press Build", chromedp.Click(chromedp.CSS("#build")))
	wait("the download links with sizes", `(() => {
		const rows = document.querySelectorAll('#download-rows tr');
		return rows.length === 5 && [...rows].every(r => / [kM]B$/.test(r.lastChild.textContent));
	})()`)
	id := ID([]byte(fixed))
	if got := chrometest.Text(t, ctx, "#build-id"); got != id {
		t.Errorf("build ID on the page %q, want %q", got, id)
	}
	if c := s.Counters(); c.Posts != 1 || c.Stored != 1 {
		t.Errorf("after Build: %d uploads, %d stored; want 1 and 1", c.Posts, c.Stored)
	}
	chrometest.NoOverflow(t, ctx, "downloads")
	chrometest.Screenshot(t, ctx, shots, "builder-4-built")

	// The link serves the archive: let Chromium download it.
	dl := t.TempDir()
	yes := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: &yes,
	}); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	progress := chromedp.BrowserEvents(dctx, browser.DownloadProgress)
	chrometest.Do(t, ctx, "click the linux-amd64 link", chromedp.Click(chromedp.CSS(`tr[data-platform="linux-amd64"] a`)))
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("Chromium cancelled the download")
		}
	}
	got, err := os.ReadFile(filepath.Join(dl, guid))
	if err != nil {
		t.Fatal(err)
	}
	if want := download(t, s, id, LinuxAMD64); !bytes.Equal(got, want) {
		t.Errorf("Chromium downloaded %d bytes, the server serves %d", len(got), len(want))
	}
	if files := readArchive(t, LinuxAMD64, got); len(files) != 9 {
		t.Errorf("downloaded archive has %d entries: %q", len(files), names(files))
	}

	// The form writes the text, and a new share keeps the sum right: the
	// difference comes from the other vessel.
	chrometest.Do(t, ctx, "open the form", chromedp.Click(chromedp.CSS("#compose-toggle")))
	wait("the form with both vessels", `document.querySelectorAll('#vessel-forms fieldset').length === 2`)
	chrometest.Eval[bool](t, ctx, `(() => { const s = document.querySelector('#vessel-forms fieldset .f-percent'); s.value = '50'; s.dispatchEvent(new Event('input')); return true })()`)
	wait("the new shares in the text", `document.querySelector('#text').value.startsWith('Percent 50\n') && document.querySelector('#text').value.includes('\nPercent 50\n')`)
	if kind := chrometest.Eval[string](t, ctx, `document.querySelector('#status').dataset.kind`); kind != "good" {
		t.Errorf("after choosing 50%% the file is %q: %s", kind, chrometest.Text(t, ctx, "#error-list"))
	}
	if !strings.Contains(chrometest.Text(t, ctx, "#build-status"), "changed since") {
		t.Error("the old downloads are not marked as out of date")
	}
	chrometest.Screenshot(t, ctx, shots, "builder-5-form")

	// A file picked from disk (CRLF line ends) is the same build.
	picked := filepath.Join(t.TempDir(), "vesselinfo")
	if err := os.WriteFile(picked, []byte(strings.ReplaceAll(fixed, "\n", "\r\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	chrometest.Do(t, ctx, "close the form", chromedp.Click(chromedp.CSS("#compose-toggle")))
	chrometest.Do(t, ctx, "pick a file", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{picked}))
	wait("the picked file", `document.querySelector('#status').textContent.startsWith('vesselinfo: Valid: 2 vessels')`)
	if got := chrometest.Text(t, ctx, "#build-status"); !strings.HasPrefix(got, "Built.") {
		t.Errorf("the picked file is the built one, but the page says %q", got)
	}

	// A dropped file replaces the text.
	dropped := filepath.Join(t.TempDir(), "dropped-vesselinfo")
	if err := os.WriteFile(dropped, []byte("Percent 100\nOwner 3 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	x := chrometest.Eval[float64](t, ctx, `(() => { const r = document.querySelector('#text').getBoundingClientRect(); return r.x + r.width / 2 })()`)
	y := chrometest.Eval[float64](t, ctx, `(() => { const r = document.querySelector('#text').getBoundingClientRect(); return r.y + r.height / 2 })()`)
	drag := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{dropped}, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: x, Y: y, Data: drag}); err != nil {
			t.Fatalf("drag %s: %v", typ, err)
		}
	}
	wait("the dropped file", `document.querySelector('#status').textContent.startsWith('dropped-vesselinfo: Valid: 1 vessel, 0 user keys')`)
	if got := chrometest.Eval[string](t, ctx, `document.querySelector('#text').value`); got != "Percent 100\nOwner 3 5\n" {
		t.Errorf("after the drop the text is %q", got)
	}

	// A file far too large for a vesselinfo is refused in the page.
	huge := filepath.Join(t.TempDir(), "huge")
	if err := os.WriteFile(huge, bytes.Repeat([]byte("Percent 100\n"), 200_000), 0o644); err != nil {
		t.Fatal(err)
	}
	chrometest.Do(t, ctx, "pick a huge file", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{huge}))
	wait("the size refusal", `document.querySelector('#status').textContent.includes('the limit is 1 MiB')`)

	// Narrow windows keep everything readable.
	chrometest.Do(t, ctx, "shrink to 640x480", chromedp.EmulateViewport(640, 480))
	chrometest.NoOverflow(t, ctx, "640x480")
	chrometest.Screenshot(t, ctx, shots, "builder-6-narrow")
	if c := s.Counters(); c.Posts != 1 {
		t.Errorf("%d uploads in all, want the one Build", c.Posts)
	}
}
