package builder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
	"github.com/seattletestbed/seattle-installer/web"
	"github.com/seattletestbed/seattle-installer/web/upload"
)

// Handler returns the server's routes:
//
//	GET  /                        the upload page (and its files, validator.wasm, wasm_exec.js)
//	POST /api/builds              store a vesselinfo; 201 with the links, 422 with its errors
//	GET  /api/builds/ID           the stored vesselinfo and the links
//	GET  /builds/ID/PLATFORM      the archive, built on first download
//
// API errors are JSON ({"error": "..."}, or {"errors": [...]} for an
// invalid vesselinfo); other errors are short HTML pages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/builds", s.handleCreate)
	mux.HandleFunc("/api/builds/{id}", s.handleBuild)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such API: the API is POST /api/builds and GET /api/builds/ID")
	})
	mux.HandleFunc("/builds/{id}/{platform}", s.handleArchive)
	mux.HandleFunc("/", s.handleStatic)
	return s.logged(secure(mux))
}

// contentSecurityPolicy allows the page's own files and nothing else;
// 'wasm-unsafe-eval' lets it compile validator.wasm, and frame-ancestors
// keeps it out of other sites' frames.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure sets the security headers of every response. There is no CORS
// header at all: only the page this server serves may read the API.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// logged counts requests and logs one line per response.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.n, "took", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr)
	})
}

// statusWriter remembers the status and size of a response. It passes
// ReadFrom through so that archives still go out with sendfile.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.n += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// createdBody is the answer to a valid upload.
type createdBody struct {
	ID         string              `json:"id"`
	Installers map[Platform]string `json:"installers"`
}

// buildBody is the answer to GET /api/builds/ID.
type buildBody struct {
	ID         string              `json:"id"`
	Vesselinfo string              `json:"vesselinfo"`
	Vessels    []vesselBody        `json:"vessels"`
	Installers map[Platform]string `json:"installers"`
}

type vesselBody struct {
	Percent int      `json:"percent"`
	Owner   string   `json:"owner"`
	Users   []string `json:"users"`
}

type errorsBody struct {
	Errors []lineError `json:"errors"`
}

type lineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func (s *Server) links(id string) map[Platform]string {
	m := make(map[Platform]string, len(s.recipes))
	for _, p := range s.Platforms() {
		m[p] = "/builds/" + id + "/" + string(p)
	}
	return m
}

// handleCreate stores a valid vesselinfo: POST /api/builds.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		apiError(w, http.StatusMethodNotAllowed, "use POST with the vesselinfo text as the request body")
		return
	}
	s.posts.Add(1)
	tooLarge := fmt.Sprintf("vesselinfo is larger than the limit of %s; a real one is a few kilobytes", sizeText(s.cfg.MaxBody))
	if r.ContentLength > s.cfg.MaxBody {
		apiError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		apiError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	case err != nil:
		apiError(w, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return
	}
	res := vesselinfo.Validate(body)
	if !res.Valid {
		out := errorsBody{Errors: make([]lineError, len(res.Errors))}
		for i, e := range res.Errors {
			out.Errors[i] = lineError{e.Line, e.Message}
		}
		writeJSON(w, http.StatusUnprocessableEntity, out)
		return
	}
	id := ID(body)
	if err := s.store(id, Normalize(body)); err != nil {
		s.log.Error("store build", "id", id, "err", err)
		apiError(w, http.StatusInternalServerError, "the server could not store the build; try again, and tell its operator if it persists")
		return
	}
	w.Header().Set("Location", "/api/builds/"+id)
	writeJSON(w, http.StatusCreated, createdBody{ID: id, Installers: s.links(id)})
}

// store writes a build's vesselinfo unless it is stored already. The same
// text always has the same ID, so an existing file is the same build.
func (s *Server) store(id string, text []byte) error {
	path := s.vesselinfoPath(id)
	if ok, err := exists(path); err != nil || ok {
		return err
	}
	return s.flight.do(path, func() error {
		if ok, err := exists(path); err != nil || ok {
			return err
		}
		if err := writeAtomic(path, func(f *os.File) error { _, err := f.Write(text); return err }); err != nil {
			return err
		}
		s.stored.Add(1)
		s.log.Info("build stored", "id", id, "bytes", len(text))
		return nil
	})
}

// errNoBuild means no build has the ID asked for.
var errNoBuild = errors.New("no build with this ID")

// load reads a stored build, checking that it is what its ID says.
func (s *Server) load(id string) (buildInput, error) {
	text, err := os.ReadFile(s.vesselinfoPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return buildInput{}, errNoBuild
	}
	if err != nil {
		return buildInput{}, err
	}
	if ID(text) != id {
		return buildInput{}, fmt.Errorf("%s: content does not match its ID (changed on disk?)", s.vesselinfoPath(id))
	}
	vessels, err := vesselinfo.Parse(text)
	if err != nil {
		return buildInput{}, fmt.Errorf("%s: stored vesselinfo is invalid: %w", s.vesselinfoPath(id), err)
	}
	return buildInput{id: id, vesselinfo: text, vessels: vessels}, nil
}

// handleBuild describes a stored build: GET /api/builds/ID.
func (s *Server) handleBuild(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		apiError(w, http.StatusMethodNotAllowed, "use GET to read a build")
		return
	}
	id := r.PathValue("id")
	if !validID(id) {
		apiError(w, http.StatusNotFound, fmt.Sprintf("no build with this ID: an ID is %d hexadecimal digits, as POST /api/builds returns", IDLen))
		return
	}
	in, err := s.load(id)
	if errors.Is(err, errNoBuild) {
		apiError(w, http.StatusNotFound, "no build with this ID: upload the vesselinfo again with POST /api/builds")
		return
	}
	if err != nil {
		s.log.Error("load build", "id", id, "err", err)
		apiError(w, http.StatusInternalServerError, "the server could not read this build; tell its operator")
		return
	}
	out := buildBody{ID: id, Vesselinfo: string(in.vesselinfo), Installers: s.links(id), Vessels: []vesselBody{}}
	for _, v := range in.vessels {
		vb := vesselBody{Percent: v.Percent, Owner: v.Owner.String(), Users: []string{}}
		for _, u := range v.Users {
			vb.Users = append(vb.Users, u.String())
		}
		out.Vessels = append(out.Vessels, vb)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleArchive serves an archive, building it on first download:
// GET /builds/ID/PLATFORM.
func (s *Server) handleArchive(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		pageError(w, http.StatusMethodNotAllowed, "Method not allowed", "Download installers with GET (follow the link).")
		return
	}
	id, p := r.PathValue("id"), Platform(r.PathValue("platform"))
	lr, ok := s.recipes[p]
	if !validID(id) || !ok {
		msg := "There is no build with this ID."
		if validID(id) {
			msg = fmt.Sprintf("There is no installer for the platform %q here.", p)
		}
		pageError(w, http.StatusNotFound, "Not found", msg)
		return
	}
	rec, err := lr.get()
	if err != nil {
		s.log.Error("base installer", "platform", p, "err", err)
		pageError(w, http.StatusInternalServerError, "Server error", "The base installer for this platform could not be read. Tell the server's operator.")
		return
	}
	path := s.archivePath(id, rec)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		err = s.build(id, rec, path)
		if errors.Is(err, errNoBuild) {
			pageError(w, http.StatusNotFound, "Not found", "There is no build with this ID. Upload the vesselinfo file again.")
			return
		}
		if err == nil {
			f, err = os.Open(path)
		}
	}
	if err != nil {
		s.log.Error("archive", "id", id, "platform", p, "err", err)
		pageError(w, http.StatusInternalServerError, "Server error", "The installer could not be built. Try again, and tell the server's operator if it persists.")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		pageError(w, http.StatusInternalServerError, "Server error", "The installer could not be read.")
		return
	}
	// A slow client still gets the whole archive, at minDownloadRate.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout + time.Duration(st.Size()/minDownloadRate)*time.Second))
	s.downloads.Add(1)
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	h := w.Header()
	if p.OS() == "windows" {
		h.Set("Content-Type", "application/zip")
	} else {
		h.Set("Content-Type", "application/gzip")
	}
	h.Set("Content-Disposition", `attachment; filename="`+ArchiveName(id, p)+`"`)
	h.Set("ETag", `"`+id+"-"+string(p)+"-"+rec.digest+`"`)
	h.Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// ArchiveName is the file name a download is saved as.
func ArchiveName(id string, p Platform) string {
	return "seattle-installer-" + string(p) + "-" + id[:12] + p.ArchiveExt()
}

// build makes one archive unless another request is making it already.
func (s *Server) build(id string, rec *recipe, path string) error {
	return s.flight.do(path, func() error {
		if ok, err := exists(path); err != nil || ok {
			return err
		}
		start := time.Now()
		in, err := s.load(id)
		if err != nil {
			return err
		}
		if err := writeAtomic(path, func(f *os.File) error { return rec.write(f, in) }); err != nil {
			return err
		}
		s.built.Add(1)
		s.log.Info("archive built", "id", id, "platform", rec.platform, "took", time.Since(start).Round(time.Millisecond))
		return nil
	})
}

// staticFile is one file of the upload page, held in memory.
type staticFile struct {
	body  []byte
	ctype string
	etag  string
}

// loadStatic collects the page's files: web/upload/* at the root, and the
// validator with its loader from web. Only these exact paths are served, so
// there is nothing to list and nothing outside them to reach.
func loadStatic() (map[string]staticFile, error) {
	m := map[string]staticFile{}
	add := func(files fs.FS, urlPath, name string) error {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return fmt.Errorf("page file: %w", err)
		}
		sum := sha256.Sum256(b)
		m[urlPath] = staticFile{body: b, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	}
	entries, err := fs.ReadDir(upload.Files(), ".")
	if err != nil {
		return nil, fmt.Errorf("page files: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := add(upload.Files(), "/"+e.Name(), e.Name()); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range []string{"validator.wasm", "wasm_exec.js"} {
		if err := add(web.Files(), "/"+name, name); err != nil {
			return nil, err
		}
	}
	if _, ok := m["/index.html"]; !ok {
		return nil, errors.New("page files: upload/index.html is missing")
	}
	m["/"] = m["/index.html"]
	return m, nil
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
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// apiError answers an API request with {"error": msg}.
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error: could not encode the answer"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// pageError answers a browser with a short page that says what went wrong.
// It is formatted by hand, with every value escaped, rather than with
// html/template, which would add a few hundred kilobytes to every installer.
func pageError(w http.ResponseWriter, status int, title, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%d %s · Seattle installer builder</title><link rel="stylesheet" href="/app.css"></head>
<body class="error-page"><main><h1>%s</h1><p>%s</p>
<p><a href="/">Back to the installer builder</a></p><p class="muted">HTTP %d</p></main></body></html>
`, status, html.EscapeString(title), html.EscapeString(title), html.EscapeString(msg), status)
}

func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
