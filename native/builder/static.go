package builder

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/seattletestbed/seattle-installer/web"
	"github.com/seattletestbed/seattle-installer/web/upload"
)

// The upload page loads fast from far away:
//   - its scripts, style and validator are served under content-hashed URLs
//     (/assets/app.3f9a0c1e2b.js) with Cache-Control: immutable, so a second
//     visit fetches nothing but a revalidation of the HTML;
//   - they are gzip-compressed once by `make` (web/upload/gz, gzip -9), and
//     sent with Content-Encoding: gzip to clients that accept it: the
//     2.1 MB validator goes out as about 620 KB. A precompressed file that
//     does not match its source (stale) is compressed again at start.
//
// Brotli would save about another 15 % but needs a program or library at
// build time; gzip already brings a first visit well under 800 KB.

// staticFile is one file of the upload page, held in memory.
type staticFile struct {
	body    []byte
	gz      []byte // body gzip-compressed; nil when that would not be smaller
	ctype   string
	etag    string // of body; the gzip form's is etag with "-gz"
	hashed  bool   // under a content-hashed URL: cacheable for ever
	urlPath string
}

// assetsPrefix is where the content-hashed files are.
const assetsPrefix = "/assets/"

// loadStatic collects the page's files: web/upload's at the root, and the
// validator with its loader from web, each also under its content-hashed
// URL, and the HTML with its references rewritten to those URLs. Only these
// exact paths are served, so there is nothing to list and nothing outside
// them to reach.
func loadStatic() (map[string]*staticFile, error) {
	m := map[string]*staticFile{}
	read := func(files fs.FS, name string) ([]byte, error) {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("page file: %w", err)
		}
		return b, nil
	}
	var html []byte
	hashedName := map[string]string{} // app.js → /assets/app.HASH.js
	add := func(name string, body []byte) error {
		gz, err := precompressed(name, body)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:5])
		f := &staticFile{body: body, gz: gz, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, urlPath: "/" + name}
		m["/"+name] = f
		ext := path.Ext(name)
		hf := *f
		hf.hashed = true
		hf.urlPath = assetsPrefix + strings.TrimSuffix(name, ext) + "." + hash + ext
		m[hf.urlPath] = &hf
		hashedName[name] = hf.urlPath
		return nil
	}
	entries, err := fs.ReadDir(upload.Files(), ".")
	if err != nil {
		return nil, fmt.Errorf("page files: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := read(upload.Files(), e.Name())
		if err != nil {
			return nil, err
		}
		if e.Name() == "index.html" {
			html = b
			continue
		}
		if err := add(e.Name(), b); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"validator.wasm", "wasm_exec.js"} {
		b, err := read(web.Files(), name)
		if err != nil {
			return nil, err
		}
		if err := add(name, b); err != nil {
			return nil, err
		}
	}
	if html == nil {
		return nil, errors.New("page files: upload/index.html is missing")
	}
	// Point the HTML at the hashed URLs: every reference is a quoted name
	// ("app.js"), and each must be found, or the page and its files have
	// drifted apart.
	for name, hashed := range hashedName {
		q := `"` + name + `"`
		if name == "donor.js" {
			continue // the donor's page (donorpage.go) loads it, not index.html
		}
		if name == "validator.wasm" || name == "wasm_exec.js" || strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".css") {
			if !bytes.Contains(html, []byte(q)) {
				return nil, fmt.Errorf("page files: index.html does not refer to %s", q)
			}
		}
		html = bytes.ReplaceAll(html, []byte(q), []byte(`"`+hashed+`"`))
	}
	sum := sha256.Sum256(html)
	index := &staticFile{body: html, ctype: contentType("index.html"), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, urlPath: "/"}
	if index.gz, err = gzipBytes(html); err != nil {
		return nil, err
	}
	m["/"], m["/index.html"] = index, index
	return m, nil
}

// precompressed returns the gzip form of a page file: the one `make` wrote
// to web/upload/gz when it is present and decompresses to body, otherwise
// one made now (once per process) and nil when gzip would not make it
// smaller.
func precompressed(name string, body []byte) ([]byte, error) {
	if gz, err := fs.ReadFile(upload.Precompressed(), name+".gz"); err == nil {
		if zr, err := gzip.NewReader(bytes.NewReader(gz)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil && bytes.Equal(plain, body) {
				return gz, nil
			}
		}
	}
	gz, err := gzipBytes(body)
	if err != nil || len(gz) >= len(body) {
		return nil, err
	}
	return gz, nil
}

func gzipBytes(b []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// contentType by extension, from a fixed table rather than the system's
// MIME database so that every machine serves the same headers.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".wasm":
		return "application/wasm"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// acceptsGzip reports whether a request's Accept-Encoding allows gzip
// (listed, or *, and not with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static[r.URL.Path]
	if !ok {
		pageError(w, http.StatusNotFound, "Not found", "There is nothing at this address. The installer builder is at /.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		pageError(w, http.StatusMethodNotAllowed, "Method not allowed", "This address only serves a page (GET).")
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	if f.hashed {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// The HTML (and the old unhashed names): revalidated on every
		// visit, a 304 when unchanged.
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := f.body, f.etag
	if f.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
