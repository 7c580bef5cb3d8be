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
//   - they are compressed once by `make` (web/upload/gz: brotli -q 11 and
//     gzip -9) and sent with Content-Encoding br or gzip, whichever the
//     client accepts, brotli first: the 2.1 MB validator goes out as 481 KB
//     (626 KB with gzip). A precompressed gzip file that does not match its
//     source (stale) is compressed again at start, and the brotli file
//     beside it is not used (make writes it just before the gzip one).

// staticFile is one file of the upload page, held in memory.
type staticFile struct {
	body    []byte
	gz      []byte // body gzip-compressed; nil when that would not be smaller
	br      []byte // body brotli-compressed by make; nil when not made
	ctype   string
	etag    string // of body; the gzip form's is etag with "-gz"
	hashed  bool   // under a content-hashed URL: cacheable for ever
	urlPath string
}

// assetsPrefix is where the content-hashed files are.
const assetsPrefix = "/assets/"

// loadStatic collects the page's files: web/upload's at the root, and the
// validator with its loader and the common stylesheet from web, each also
// under its content-hashed
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
		gz, br, err := precompressed(name, body)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:5])
		f := &staticFile{body: body, gz: gz, br: br, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, urlPath: "/" + name}
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
	// What the page shares with the donor's install window: the validator
	// and the stylesheet of the common parts, from package web.
	for _, name := range []string{"validator.wasm", "wasm_exec.js", "common.css"} {
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

// precompressed returns the gzip and brotli forms of a page file: the ones
// `make` wrote to web/upload/gz when the gzip one is present and
// decompresses to body (brotli only with it: make writes both from one
// source, the brotli one first), otherwise a gzip form made now (once per
// process), nil when gzip would not make it smaller, and no brotli form.
func precompressed(name string, body []byte) (gz, br []byte, err error) {
	if gz, err := fs.ReadFile(upload.Precompressed(), name+".gz"); err == nil {
		if zr, err := gzip.NewReader(bytes.NewReader(gz)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil && bytes.Equal(plain, body) {
				br, _ := fs.ReadFile(upload.Precompressed(), name+".br")
				if len(br) == 0 || len(br) >= len(gz) {
					br = nil
				}
				return gz, br, nil
			}
		}
	}
	gz, err = gzipBytes(body)
	if err != nil || len(gz) >= len(body) {
		return nil, nil, err
	}
	return gz, nil, nil
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

// accepts reports whether a request's Accept-Encoding allows coding
// (listed, or *, and not with q=0).
func accepts(r *http.Request, coding string) bool {
	star := false
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			c, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			c = strings.ToLower(strings.TrimSpace(c))
			if c != coding && c != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			ok := !(q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000")
			if c == coding {
				return ok
			}
			star = ok
		}
	}
	return star
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
	if f.gz != nil || f.br != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	switch {
	case f.br != nil && accepts(r, "br"):
		body, etag = f.br, strings.TrimSuffix(f.etag, `"`)+`-br"`
		h.Set("Content-Encoding", "br")
	case f.gz != nil && accepts(r, "gzip"):
		body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
