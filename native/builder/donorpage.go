package builder

// The donor's page, /builds/ID: the link an operator hands to donors. It
// says in plain words what installing does, offers the download for the
// visitor's computer first (picked from the browser's User-Agent) and the
// others beside it with their sizes, the steps to start it on each OS, and
// the page's own address as a link to copy and a QR code to scan.

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// donorPlatform is one download on the donor's page.
type donorPlatform struct {
	Platform Platform
	Label    string // "Windows (64-bit)"
	URL      string
	File     string // the name the download is saved as
	Size     string // "9.8 MB"
	Picked   bool
}

// donorPage is what the page template shows.
type donorPage struct {
	ID          string
	PageURL     string
	QR          template.HTML
	Vessels     []donorVessel
	Picked      *donorPlatform
	Platforms   []donorPlatform
	Mobile      bool // the visitor's browser is on a phone or tablet
	DonorScript string
	Style       string // app.css, after CommonStyle
	CommonStyle string // common.css: what the builder's pages share with the install window
}

type donorVessel struct {
	Name    string // v1, v2, ...
	Percent int
	Service bool // the reserved vessel
}

// platformLabels are the names donors know their systems by.
var platformLabels = map[Platform]string{
	LinuxAMD64:   "Linux (x86-64, most PCs)",
	LinuxARM64:   "Linux (ARM 64-bit, e.g. Raspberry Pi 4 and 5)",
	DarwinARM64:  "macOS (Apple silicon: M1 and later)",
	DarwinAMD64:  "macOS (Intel)",
	WindowsAMD64: "Windows (64-bit)",
}

// pickPlatform guesses the platform of the visitor's computer from its
// User-Agent, among those the server has; "" when it cannot tell or the
// visitor is on a phone or tablet, which cannot run an installer.
func pickPlatform(ua string, have []Platform) (p Platform, mobile bool) {
	has := func(p Platform) bool {
		for _, q := range have {
			if q == p {
				return true
			}
		}
		return false
	}
	first := func(ps ...Platform) Platform {
		for _, p := range ps {
			if has(p) {
				return p
			}
		}
		return ""
	}
	switch {
	case strings.Contains(ua, "Android"), strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.Contains(ua, "Mobile"):
		return "", true
	case strings.Contains(ua, "Windows"):
		return first(WindowsAMD64), false
	case strings.Contains(ua, "Macintosh"), strings.Contains(ua, "Mac OS X"):
		// Browsers on Apple silicon still say "Intel Mac OS X"; Macs sold
		// since 2020 are Apple silicon, and the page offers Intel beside.
		return first(DarwinARM64, DarwinAMD64), false
	case strings.Contains(ua, "aarch64"), strings.Contains(ua, "arm64"), strings.Contains(ua, "armv8"):
		return first(LinuxARM64), false
	case strings.Contains(ua, "Linux"), strings.Contains(ua, "X11"), strings.Contains(ua, "CrOS"):
		return first(LinuxAMD64, LinuxARM64), false
	}
	return "", false
}

// handleDonorPage serves GET /builds/ID.
func (s *Server) handleDonorPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		pageError(w, http.StatusMethodNotAllowed, "Method not allowed", "This address is a page (GET).")
		return
	}
	id := r.PathValue("id")
	if !validID(id) {
		pageError(w, http.StatusNotFound, "Not found", "There is no build with this ID. Check the link you were given.")
		return
	}
	in, err := s.load(r.Context(), id)
	if errors.Is(err, ErrNoBuild) {
		pageError(w, http.StatusNotFound, "Not found", "There is no build with this ID. Check the link you were given.")
		return
	}
	if err != nil {
		s.log.Error("donor page", "id", id, "err", err)
		s.unavailable.Add(1)
		retryAfter(w, retryUnavailable)
		pageError(w, http.StatusServiceUnavailable, "Try again soon", "The server cannot read builds right now.")
		return
	}
	page := donorPage{ID: id, PageURL: s.publicURL(r) + "/builds/" + id, DonorScript: s.assetURL("donor.js"), Style: s.assetURL("app.css"), CommonStyle: s.assetURL("common.css")}
	svg, err := QRSVG(page.PageURL)
	if err != nil {
		s.log.Error("donor page: QR code", "id", id, "err", err)
	}
	page.QR = template.HTML(svg) // made by QRSVG, which escapes the one text it holds
	for i, v := range in.vessels {
		service := s.cfg.Reserve.Percent > 0 && i == len(in.vessels)-1 && v.Owner.String() == s.cfg.Reserve.Owner
		page.Vessels = append(page.Vessels, donorVessel{Name: fmt.Sprintf("v%d", i+1), Percent: v.Percent, Service: service})
	}
	picked, mobile := pickPlatform(r.UserAgent(), s.Platforms())
	page.Mobile = mobile
	for _, p := range s.Platforms() {
		dp := donorPlatform{Platform: p, Label: platformLabels[p], URL: "/builds/" + id + "/" + string(p), File: ArchiveName(id, p), Picked: p == picked}
		if rec, err := s.recipes[p].get(); err == nil {
			var n counter
			if rec.write(&n, in) == nil {
				dp.Size = sizeHuman(int64(n))
			}
		}
		page.Platforms = append(page.Platforms, dp)
	}
	for i := range page.Platforms {
		if page.Platforms[i].Picked {
			page.Picked = &page.Platforms[i]
		}
	}
	var b bytes.Buffer
	if err := donorTemplate.Execute(&b, page); err != nil {
		s.log.Error("donor page", "id", id, "err", err)
		pageError(w, http.StatusInternalServerError, "Server error", "The page could not be made. Tell the server's operator.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "User-Agent")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(b.Bytes())
	}
}

// assetURL is the content-hashed URL of a page file, or its plain one.
func (s *Server) assetURL(name string) string {
	ext := name[strings.LastIndex(name, "."):]
	prefix := assetsPrefix + strings.TrimSuffix(name, ext) + "."
	for u, f := range s.static {
		if f.hashed && strings.HasPrefix(u, prefix) && strings.HasSuffix(u, ext) && strings.Count(u[len(prefix):], ".") == 1 {
			return u
		}
	}
	return "/" + name
}

// sizeHuman writes a size as a donor reads it: "9.8 MB".
func sizeHuman(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%d kB", n/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

var donorTemplate = template.Must(template.New("donor").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Donate to Seattle · installer</title>
<link rel="stylesheet" href="{{.CommonStyle}}">
<link rel="stylesheet" href="{{.Style}}">
<script src="{{.DonorScript}}" defer></script>
</head>
<body class="donor-page">
<header class="top">
  <h1>Share a little of this computer with Seattle</h1>
  <p class="lead">Seattle is a testbed that researchers and students use to run experiments on computers all over the world. Installing this makes your computer one of them: it gives a small share (10% unless you choose otherwise) of its processor, memory, disk and network to the people named in this installer. Their programs run inside Seattle's sandbox, only within that share. You can uninstall at any time.</p>
</header>
<main>
<section class="card" aria-labelledby="download-title">
  <h2 id="download-title">Download</h2>
  {{- if .Picked}}
  <p><a class="button primary get" id="download-picked" href="{{.Picked.URL}}" download="{{.Picked.File}}" data-platform="{{.Picked.Platform}}">Download for {{.Picked.Label}}</a> <span class="muted" id="picked-size">{{.Picked.Size}}</span></p>
  {{- else if .Mobile}}
  <p id="no-pick">Phones and tablets cannot run the installer: open this page on the computer you want to share (scan the code below, or copy the link).</p>
  {{- else}}
  <p id="no-pick">Pick the download for your computer:</p>
  {{- end}}
  <table class="downloads">
    <thead><tr><th scope="col">System</th><th scope="col">Download</th><th scope="col" class="num">Size</th></tr></thead>
    <tbody id="platforms">
    {{- range .Platforms}}
      <tr data-platform="{{.Platform}}"{{if .Picked}} class="picked"{{end}}><td>{{.Label}}</td><td><a href="{{.URL}}" download="{{.File}}">{{.File}}</a></td><td class="num">{{.Size}}</td></tr>
    {{- end}}
    </tbody>
  </table>
</section>

<section class="card" aria-labelledby="steps-title">
  <h2 id="steps-title">Start it</h2>
  <details id="steps-windows"{{if and .Picked (eq .Picked.Platform.OS "windows")}} open{{end}}><summary>Windows</summary>
    <ol><li>Open the downloaded zip file and choose <b>Extract all</b>.</li>
    <li>Open the folder <code>seattle\seattle_repy</code> and double-click <code>seattle-installer.exe</code>.</li>
    <li>If Windows SmartScreen warns about an unknown program, choose <b>More info</b>, then <b>Run anyway</b>.</li></ol></details>
  <details id="steps-darwin"{{if and .Picked (eq .Picked.Platform.OS "darwin")}} open{{end}}><summary>macOS</summary>
    <ol><li>Open Terminal in the folder you downloaded to (usually Downloads): <code>cd ~/Downloads</code></li>
    <li>Unpack it: <code>tar -xzf seattle-installer-darwin-*.tar.gz</code></li>
    <li>Start it: <code>cd seattle &amp;&amp; xattr -dr com.apple.quarantine . ; ./seattle_repy/seattle-installer install</code></li></ol></details>
  <details id="steps-linux"{{if and .Picked (eq .Picked.Platform.OS "linux")}} open{{end}}><summary>Linux</summary>
    <ol><li>In a terminal, in the folder you downloaded to: <code>tar -xzf seattle-installer-linux-*.tar.gz</code></li>
    <li>Start it: <code>cd seattle &amp;&amp; ./install.sh</code></li></ol></details>
  <p class="muted">The installer measures the computer, shows what each share will get, and asks before it installs. It installs into the folder <code>seattle/seattle_repy</code>.</p>
</section>

<section class="card" aria-labelledby="vessels-title">
  <h2 id="vessels-title">Who gets your share</h2>
  <p>This installer divides what you give among {{len .Vessels}} {{if eq (len .Vessels) 1}}vessel{{else}}vessels{{end}}:</p>
  <ul id="vessels">
  {{- range .Vessels}}
    <li>{{.Name}}: {{.Percent}}%{{if .Service}} (Seattle's service vessel, where the node keeps its logs){{end}}</li>
  {{- end}}
  </ul>
</section>

<section class="card share" aria-labelledby="share-title">
  <h2 id="share-title">Pass it on</h2>
  <div class="share-row">
    <div class="qr" id="qr">{{.QR}}</div>
    <div>
      <label for="page-url">This page's address</label>
      <input id="page-url" type="text" readonly value="{{.PageURL}}">
      <p><button type="button" id="copy-link">Copy link</button> <span id="copy-status" class="muted" aria-live="polite"></span></p>
    </div>
  </div>
</section>
</main>
<footer class="muted small">Build <code>{{.ID}}</code></footer>
</body>
</html>
`))
