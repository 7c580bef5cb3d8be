package builder

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

// rawClient sends Accept-Encoding as the test says and never decompresses.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}

func rawGet(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

var assetRef = regexp.MustCompile(`"(/assets/[^"]+)"`)

// TestStaticAssets: the page refers to its files by content-hashed URLs,
// which are immutable and sent as make compressed them, brotli or gzip,
// to clients that accept it (make test runs make wasm first);
// the whole first visit is under 800 KB on the wire, with brotli and with
// gzip alone (a browser or proxy without brotli); the HTML is revalidated
// (304) on the next visit.
func TestStaticAssets(t *testing.T) {
	s := startServer(t, Config{})
	res, html := rawGet(t, s.url+"/", "Accept-Encoding", "gzip, deflate, br")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("ETag") == "" {
		t.Fatalf("GET /: %d Cache-Control %q ETag %q", res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
	}
	wire := int64(len(html))
	wireGzip := wire // the same visit by a client that accepts only gzip
	var plainSize int64
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(html))
		if err != nil {
			t.Fatal(err)
		}
		if html, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	refs := assetRef.FindAllStringSubmatch(string(html), -1)
	want := map[string]bool{"app.js": false, "app.css": false, "common.css": false, "wasm_exec.js": false, "validator.wasm": false, "keygen.wasm": false, "keygen-worker.js": false}
	// The key generator is fetched only when an operator generates a key
	// (TestKeysInChromium), not on a first visit.
	lazy := map[string]bool{"keygen.wasm": true, "keygen-worker.js": true}
	for _, ref := range refs {
		url := ref[1]
		gzRes, gz := rawGet(t, s.url+url, "Accept-Encoding", "gzip, deflate")
		brRes, br := rawGet(t, s.url+url, "Accept-Encoding", "gzip, deflate, br")
		plainRes, plain := rawGet(t, s.url+url)
		if gzRes.StatusCode != 200 || plainRes.StatusCode != 200 {
			t.Fatalf("%s: %d and %d", url, gzRes.StatusCode, plainRes.StatusCode)
		}
		if cc := gzRes.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", url, cc)
		}
		if gzRes.Header.Get("Content-Encoding") != "gzip" || plainRes.Header.Get("Content-Encoding") != "" || gzRes.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: Content-Encoding %q with gzip accepted, %q without; Vary %q", url,
				gzRes.Header.Get("Content-Encoding"), plainRes.Header.Get("Content-Encoding"), gzRes.Header.Get("Vary"))
			continue
		}
		if gzRes.Header.Get("ETag") == plainRes.Header.Get("ETag") {
			t.Errorf("%s: the gzip and plain forms share the ETag %s", url, gzRes.Header.Get("ETag"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if unzipped, err := io.ReadAll(zr); err != nil || !bytes.Equal(unzipped, plain) {
			t.Errorf("%s: the gzip form is not the file (%v)", url, err)
		}
		// Brotli when accepted, decoded by Debian's brotli program.
		if brRes.Header.Get("Content-Encoding") != "br" || len(br) >= len(gz) || brRes.Header.Get("ETag") == gzRes.Header.Get("ETag") {
			t.Errorf("%s with br accepted: Content-Encoding %q, %d bytes (gzip %d), ETag %s", url, brRes.Header.Get("Content-Encoding"), len(br), len(gz), brRes.Header.Get("ETag"))
		} else {
			dec := exec.Command("brotli", "-d", "-c")
			dec.Stdin = bytes.NewReader(br)
			if out, err := dec.Output(); err != nil || !bytes.Equal(out, plain) {
				t.Errorf("%s: the brotli form is not the file (%v)", url, err)
			}
		}
		// The URL names the content: app.HASH.js with HASH from its bytes.
		sum := sha256.Sum256(plain)
		base := filepath.Base(url)
		name := strings.Replace(base, "."+hex.EncodeToString(sum[:5]), "", 1)
		if name == base {
			t.Errorf("%s: the URL does not carry the hash of its content", url)
		}
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected asset %s", url)
		}
		if !lazy[name] {
			wire += int64(len(br))
			wireGzip += int64(len(gz))
			plainSize += int64(len(plain))
		}
		want[name] = true
		// What make precompressed is what goes out.
		if made, err := os.ReadFile(filepath.Join("..", "..", "web", "upload", "gz", name+".gz")); err != nil || !bytes.Equal(made, gz) {
			t.Errorf("%s: not the gzip form make wrote (%v; run make wasm)", url, err)
		}
		if made, err := os.ReadFile(filepath.Join("..", "..", "web", "upload", "gz", name+".br")); err != nil || !bytes.Equal(made, br) {
			t.Errorf("%s: not the brotli form make wrote (%v; run make wasm, with the brotli program installed)", url, err)
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("the page does not refer to %s by a hashed URL", name)
		}
	}
	t.Logf("first visit: %d bytes on the wire (%d with gzip only; the HTML and %d bytes of files uncompressed)", wire, wireGzip, plainSize)
	if wire >= 800_000 || wireGzip >= 800_000 {
		t.Errorf("a first visit transfers %d bytes (%d with gzip only), want under 800 KB either way", wire, wireGzip)
	}
	// Second visit: the HTML is revalidated.
	res, _ = rawGet(t, s.url+"/", "If-None-Match", res.Header.Get("ETag"), "Accept-Encoding", "gzip")
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating the HTML: %d, want 304", res.StatusCode)
	}
	// gzip refused with q=0: the plain form.
	res, _ = rawGet(t, s.url+refs[0][1], "Accept-Encoding", "gzip;q=0, identity")
	if res.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0: Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
	// An unknown hash is a 404, not some other version.
	if res, _ := rawGet(t, s.url+"/assets/app.0000000000.js"); res.StatusCode != 404 {
		t.Errorf("unknown hashed URL: %d", res.StatusCode)
	}
}

func TestAccepts(t *testing.T) {
	for _, tc := range []struct {
		header   string
		gzip, br bool
	}{
		{"", false, false},
		{"gzip", true, false},
		{"GZIP", true, false},
		{"deflate, gzip;q=1.0", true, false},
		{"br", false, true},
		{"gzip, deflate, br, zstd", true, true},
		{"*", true, true},
		{"gzip;q=0", false, false},
		{"gzip; q=0.000, br", false, true},
		{"identity, x-gzip-ish", false, false},
		{"br;q=0, gzip;q=0.5, *", true, false},
		{"*;q=0, gzip", true, false},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Accept-Encoding", tc.header)
		}
		if g, b := accepts(r, "gzip"), accepts(r, "br"); g != tc.gzip || b != tc.br {
			t.Errorf("Accept-Encoding %q: gzip %v br %v, want %v %v", tc.header, g, b, tc.gzip, tc.br)
		}
	}
}

// TestPageTransferInChromium measures what a real browser transfers: a
// first visit under 800 KB, and on a second visit nothing but the HTML's
// revalidation.
func TestPageTransferInChromium(t *testing.T) {
	s := startServer(t, Config{})
	ctx := chrometest.New(t, 1100, 900)
	const ready = `document.querySelector('#status').textContent.startsWith('Write, paste or drop')`
	const transferred = `(() => {
		const n = performance.getEntriesByType('navigation')[0];
		const r = performance.getEntriesByType('resource');
		return {total: n.transferSize + r.reduce((a, e) => a + e.transferSize, 0),
			html: n.transferSize, status: n.responseStatus, resources: r.length,
			fetched: r.filter(e => e.transferSize > 0).map(e => e.name)};
	})()`
	type visit struct {
		Total     int      `json:"total"`
		HTML      int      `json:"html"`
		Status    int      `json:"status"`
		Resources int      `json:"resources"`
		Fetched   []string `json:"fetched"`
	}
	chrometest.Do(t, ctx, "first visit", chromedp.Navigate(s.url+"/"))
	chrometest.WaitFor(t, ctx, "the validator to load", ready, 30*time.Second)
	first := chrometest.Eval[visit](t, ctx, transferred)
	t.Logf("first visit: %+v", first)
	if first.Total >= 800_000 || first.Resources < 4 {
		t.Errorf("first visit transferred %d bytes in %d resources, want under 800 KB", first.Total, first.Resources)
	}
	chrometest.Do(t, ctx, "leave", chromedp.Navigate("about:blank"))
	chrometest.Do(t, ctx, "second visit", chromedp.Navigate(s.url+"/"))
	chrometest.WaitFor(t, ctx, "the validator to load again", ready, 30*time.Second)
	second := chrometest.Eval[visit](t, ctx, transferred)
	t.Logf("second visit: %+v", second)
	// Chromium reports a revalidated page as 200 from its cache; what it
	// transferred (headers, no body) shows the 304.
	if second.HTML >= first.HTML || second.Total >= 1000 || len(second.Fetched) != 0 || second.Resources < 4 {
		t.Errorf("second visit: %d bytes (HTML %d, first visit's %d), resources fetched again %v; want the HTML revalidated and nothing else",
			second.Total, second.HTML, first.HTML, second.Fetched)
	}
}

// TestArchiveUnderContentURL: an archive's response names the URL of its
// exact content, which serves the same bytes as immutable; a URL naming
// other base installers is a 404 that points to the current one.
func TestArchiveUnderContentURL(t *testing.T) {
	s := startServer(t, Config{BaseDir: baseWith(t, LinuxAMD64)})
	id := createOK(t, s, sample)
	plain := do(t, "GET", s.url+"/builds/"+id+"/linux-amd64", nil)
	loc := plain.header.Get("Content-Location")
	if plain.status != 200 || !strings.HasPrefix(loc, "/builds/"+id+"/linux-amd64/") || plain.header.Get("Cache-Control") != "public, max-age=3600" {
		t.Fatalf("GET: %d Content-Location %q Cache-Control %q", plain.status, loc, plain.header.Get("Cache-Control"))
	}
	named := do(t, "GET", s.url+loc, nil)
	if named.status != 200 || !bytes.Equal(named.body, plain.body) || named.header.Get("ETag") != plain.header.Get("ETag") {
		t.Errorf("GET %s: %d, same bytes %v, ETag %q vs %q", loc, named.status, bytes.Equal(named.body, plain.body), named.header.Get("ETag"), plain.header.Get("ETag"))
	}
	if cc := named.header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("content-named URL: Cache-Control %q", cc)
	}
	stale := do(t, "GET", s.url+"/builds/"+id+"/linux-amd64/0123456789abcdef", nil)
	if stale.status != 404 || !bytes.Contains(stale.body, []byte("/builds/"+id+"/linux-amd64")) || stale.header.Get("Cache-Control") != "no-store" {
		t.Errorf("another digest: %d %q (Cache-Control %q)", stale.status, stale.body, stale.header.Get("Cache-Control"))
	}
}
