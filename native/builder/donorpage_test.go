package builder

import (
	"bytes"
	"image"
	"image/color"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR reads a QR code from an image with ZXing's decoder (the Go
// port), as a phone's camera app would.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code does not decode: %v", err)
	}
	return res.GetText()
}

var (
	svgViewBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	svgRun     = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
)

// rasterizeQR draws an SVG that QRSVG made at 6 pixels a module, reading
// only its viewBox and path: it checks the SVG's geometry, not our bitmap.
func rasterizeQR(t *testing.T, svg string) image.Image {
	t.Helper()
	m := svgViewBox.FindStringSubmatch(svg)
	if m == nil || m[1] != m[2] {
		t.Fatalf("no square viewBox in %.200s", svg)
	}
	n, _ := strconv.Atoi(m[1])
	const scale = 6
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	runs := svgRun.FindAllStringSubmatch(svg, -1)
	if len(runs) == 0 {
		t.Fatal("no dark modules in the SVG")
	}
	for _, r := range runs {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		if r[3] != r[4] || x < 4 || y < 4 || x+w > n-4 || y >= n-4 {
			t.Fatalf("run %q leaves its row or enters the quiet zone", r[0])
		}
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+w)*scale; px++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	return img
}

func TestQRSVGDecodes(t *testing.T) {
	for _, text := range []string{
		"http://127.0.0.1:8080/builds/0123456789abcdef0123456789abcdef",
		"https://builder.example.org/builds/45cdfced82ee85a197bada3b6a612485",
		"https://a-much-longer-host-name.seattle.example.org:8443/some/prefix/builds/45cdfced82ee85a197bada3b6a612485?x=\"<&>\"",
	} {
		svg, err := QRSVG(text)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg"`) || strings.Contains(svg, `"<&>"`) {
			t.Errorf("not an SVG with the text escaped: %.300s", svg)
		}
		if got := decodeQR(t, rasterizeQR(t, svg)); got != text {
			t.Errorf("decoded %q, want %q", got, text)
		}
	}
}

func TestPickPlatform(t *testing.T) {
	all := Platforms
	for _, tc := range []struct {
		ua     string
		have   []Platform
		want   Platform
		mobile bool
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36", all, WindowsAMD64, false},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15", all, DarwinARM64, false},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)", []Platform{LinuxAMD64, DarwinAMD64}, DarwinAMD64, false},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", all, LinuxAMD64, false},
		{"Mozilla/5.0 (X11; Linux aarch64; rv:132.0) Gecko/20100101 Firefox/132.0", all, LinuxARM64, false},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 Chrome/130.0 Safari/537.36", all, LinuxAMD64, false},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36", all, "", true},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", all, "", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64)", []Platform{LinuxAMD64}, "", false},
		{"curl/8.5.0", all, "", false},
		{"", all, "", false},
	} {
		got, mobile := pickPlatform(tc.ua, tc.have)
		if got != tc.want || mobile != tc.mobile {
			t.Errorf("%q: %q mobile %v, want %q %v", tc.ua, got, mobile, tc.want, tc.mobile)
		}
	}
}

var svgInPage = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// TestDonorPage: the page a donor opens from the link: the download for
// their system first with its true size, every platform, the steps, the
// vessels, and the page's address as text and as a QR code that decodes
// to it.
func TestDonorPage(t *testing.T) {
	key := serviceKey(t)
	s := startServer(t, Config{Reserve: Reserve{Percent: 20, Owner: key}, PublicURL: "https://builder.example.org"})
	id := create(t, s, "Percent 30\nOwner 3 9\nPercent 50\nOwner 5 33\n")
	page := s.url + "/builds/" + id
	windows := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
	r := do(t, "GET", page, nil, "User-Agent", windows)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" || r.header.Get("Vary") != "User-Agent" {
		t.Fatalf("GET: %d %v", r.status, r.header)
	}
	checkSecurityHeaders(t, r)
	body := string(r.body)
	archive := download(t, s, id, WindowsAMD64)
	for _, want := range []string{
		`id="download-picked" href="/builds/` + id + `/windows-amd64" download="` + ArchiveName(id, WindowsAMD64) + `" data-platform="windows-amd64">Download for Windows (64-bit)</a>`,
		`<span class="muted" id="picked-size">` + sizeHuman(int64(len(archive))) + `</span>`,
		`<details id="steps-windows" open>`,
		`<li>v3: 20% (Seattle's service vessel, where the node keeps its logs)</li>`,
		`<li>v1: 30%</li>`,
		`value="https://builder.example.org/builds/` + id + `"`,
		`Share a little of this computer with Seattle`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, p := range Platforms {
		if !strings.Contains(body, `<tr data-platform="`+string(p)+`"`) {
			t.Errorf("the page lacks the row of %s", p)
		}
	}
	svg := svgInPage.FindString(body)
	if got := decodeQR(t, rasterizeQR(t, svg)); got != "https://builder.example.org/builds/"+id {
		t.Errorf("the QR code says %q, want the page's address", got)
	}

	phone := do(t, "GET", page, nil, "User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148")
	if !bytes.Contains(phone.body, []byte("Phones and tablets cannot run the installer")) || bytes.Contains(phone.body, []byte(`id="download-picked"`)) {
		t.Errorf("a phone is offered a download:\n%s", phone.body)
	}
	if head := do(t, "HEAD", page, nil); head.status != http.StatusOK || len(head.body) != 0 {
		t.Errorf("HEAD: %d with %d bytes", head.status, len(head.body))
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/builds/" + strings.Repeat("0", IDLen), http.StatusNotFound},
		{"GET", "/builds/nothex", http.StatusNotFound},
		{"GET", "/builds/" + strings.ToUpper(id), http.StatusNotFound},
		{"POST", "/builds/" + id, http.StatusMethodNotAllowed},
	} {
		if r := do(t, tc.method, s.url+tc.path, nil); r.status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, r.status, tc.status)
		}
	}
	// The page's script and styles are the upload page's files and the
	// stylesheet it shares with the install window.
	for _, ref := range regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(body, -1) {
		if r := do(t, "GET", s.url+ref[1], nil); r.status != http.StatusOK {
			t.Errorf("GET %s: %d", ref[1], r.status)
		}
	}
	if n := len(regexp.MustCompile(`(?:src|href)="/assets/`).FindAllString(body, -1)); n != 3 {
		t.Errorf("the page loads %d hashed assets, want 3 (common.css, app.css and donor.js)", n)
	}
	// The stylesheet it shares with the install window first, then its own.
	if css := regexp.MustCompile(`<link rel="stylesheet" href="/assets/(\w+)\.[0-9a-f]{10}\.css">`).FindAllStringSubmatch(body, -1); len(css) != 2 || css[0][1] != "common" || css[1][1] != "app" {
		t.Errorf("the page's stylesheets are %q, want common.css then app.css", css)
	}
}
