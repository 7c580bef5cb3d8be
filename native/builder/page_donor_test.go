package builder

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

// TestDonorPageInChromium drives the operator's page and the donor's page in
// real Chromium on a server that reserves 20 % as Seattle's does: the page
// says so and accepts vessels adding up to 80; Build links to the donor's
// page; that page offers the Mac download to a Mac browser and shows a QR
// code that, photographed from the screen, decodes to its address; and a
// build against a server that has stopped says why it failed, and keeps
// saying it.
func TestDonorPageInChromium(t *testing.T) {
	key := serviceKey(t)
	s := startServer(t, Config{Reserve: Reserve{Percent: 20, Owner: key}})
	ctx := chrometest.New(t, 1100, 900)
	shots := chrometest.ScreenshotDir(t)
	wait := func(what, js string) { t.Helper(); chrometest.WaitFor(t, ctx, what, js, 30*time.Second) }
	mac := "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: mac}); err != nil {
		t.Fatal(err)
	}

	chrometest.Do(t, ctx, "open the page", chromedp.Navigate(s.url+"/"))
	wait("the reserve note", `!document.querySelector('#reserve-note').hidden`)
	if got := chrometest.Text(t, ctx, "#reserve-note"); !strings.Contains(got, "adds a vessel of 20%") || !strings.Contains(got, "add up to 80%") {
		t.Errorf("reserve note %q", got)
	}
	paste := func(text string) {
		t.Helper()
		chrometest.Eval[bool](t, ctx, `document.querySelector('#text').select(), true`)
		chrometest.Do(t, ctx, "focus the editor", chromedp.Focus(chromedp.CSS("#text")))
		if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text}); err != nil {
			t.Fatalf("paste: %v", err)
		}
	}
	// 100 % is what a server without a reserve wants; here it is wrong.
	paste("Percent 100\nOwner 3 9\n")
	wait("the sum error", `document.querySelector('#status').dataset.kind === 'bad'`)
	if got := chrometest.Text(t, ctx, "#error-list"); !strings.Contains(got, "add up to 100; they must add up to 80, because this server adds a vessel of 20%") {
		t.Errorf("errors for 100%%: %q", got)
	}
	user := "Percent 30\nOwner 3 9\nPercent 50\nOwner 5 33\n"
	paste(user)
	wait("valid with the service vessel", `document.querySelector('#status').textContent.startsWith('Valid: 3 vessels')`)
	chrometest.Do(t, ctx, "press Build", chromedp.Click(chromedp.CSS("#build")))
	wait("the donor link", `document.querySelector('#donor-link').textContent.includes('/builds/')`)
	id := ID([]byte(user + "Percent 20\nOwner " + key + "\n"))
	pageURL := s.url + "/builds/" + id
	if got := chrometest.Text(t, ctx, "#donor-link"); got != pageURL {
		t.Errorf("donor link %q, want %q", got, pageURL)
	}
	chrometest.Screenshot(t, ctx, shots, "donor-1-built")

	// The donor's page, as a Mac sees it.
	href := chrometest.Eval[string](t, ctx, `document.querySelector('#donor-link').href`)
	if href != pageURL {
		t.Errorf("donor link goes to %q, want %q", href, pageURL)
	}
	chrometest.Do(t, ctx, "open the donor page", chromedp.Navigate(href))
	wait("the donor page", `document.querySelector('#download-picked') !== null`)
	if p := chrometest.Eval[string](t, ctx, `document.querySelector('#download-picked').dataset.platform`); p != string(DarwinARM64) {
		t.Errorf("picked %q for a Mac, want darwin-arm64", p)
	}
	if !chrometest.Eval[bool](t, ctx, `document.querySelector('#steps-darwin').open && !document.querySelector('#steps-windows').open`) {
		t.Error("the macOS steps are not the ones open")
	}
	if got := chrometest.Text(t, ctx, "#vessels"); !strings.Contains(got, "v3: 20% (Seattle's service vessel") {
		t.Errorf("vessels %q", got)
	}
	chrometest.NoOverflow(t, ctx, "donor page")
	chrometest.Screenshot(t, ctx, shots, "donor-2-page")

	// The QR code as the screen shows it decodes to the page's address.
	shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#qr svg")))
	if err != nil {
		t.Fatalf("photograph the QR code: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, withMargin(img)); got != pageURL {
		t.Errorf("the QR code on screen says %q, want %q", got, pageURL)
	}
	// Copy link: the clipboard, or the address selected to copy by hand.
	chrometest.Do(t, ctx, "copy the link", chromedp.Click(chromedp.CSS("#copy-link")))
	wait("the copy status", `document.querySelector('#copy-status').textContent !== ''`)
	if got := chrometest.Text(t, ctx, "#copy-status"); got != "Copied." && !strings.HasPrefix(got, "Selected") {
		t.Errorf("copy status %q", got)
	}

	// Back on the builder's page, the server stops; Build says why it
	// failed, and the message stays.
	chrometest.Do(t, ctx, "back to the builder", chromedp.Navigate(s.url+"/"))
	wait("the builder page", `document.querySelector('#status').textContent.length > 0 && typeof seattleValidateVesselinfo === 'function'`)
	paste("Percent 80\nOwner 5 33\n")
	wait("valid", `!document.querySelector('#build').disabled`)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	chrometest.Do(t, ctx, "press Build", chromedp.Click(chromedp.CSS("#build")))
	wait("the failure", `document.querySelector('#build-status').textContent.startsWith('Could not build')`)
	time.Sleep(500 * time.Millisecond) // what overwrote the failure did so at once
	if got := chrometest.Text(t, ctx, "#build-status"); !strings.Contains(got, "the server could not be reached") {
		t.Errorf("after a failed build the page says %q", got)
	}
	chrometest.Screenshot(t, ctx, shots, "donor-3-failed")
}

// withMargin puts a white border around a screenshot, as a camera sees a
// code on a larger screen.
func withMargin(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()+80, b.Dy()+80))
	for i := range out.Pix {
		out.Pix[i] = 0xff
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x-b.Min.X+40, y-b.Min.Y+40, img.At(x, y))
		}
	}
	return out
}
