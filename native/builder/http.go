package builder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// Handler returns the server's routes:
//
//	GET  /                        the upload page (and its files, validator.wasm, wasm_exec.js)
//	POST /api/builds              store a vesselinfo; 201 with the links, 422 with its errors
//	GET  /api/builds/ID           the stored vesselinfo and the links
//	GET  /api/config              what the page must know: the reserved vessel (reserve.go)
//	GET  /builds/ID               the donor's page: downloads, steps, link and QR code (donorpage.go)
//	GET  /builds/ID/PLATFORM      the archive, built on first download
//	POST /xmlrpc/                 Seattle's XML-RPC API (rpc.go); GET describes it
//	GET  /builds/ID/PLATFORM/DIGEST  the same under a URL naming its content: immutable
//
// API errors are JSON ({"error": "..."}, or {"errors": [...]} for an
// invalid vesselinfo); other errors are short HTML pages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/builds", s.handleCreate)
	mux.HandleFunc("/api/builds/{id}", s.handleBuild)
	mux.HandleFunc("/api/config", s.handleConfig)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such API: the API is POST /api/builds and GET /api/builds/ID")
	})
	mux.HandleFunc("/builds/{id}/{platform}", s.handleArchive)
	mux.HandleFunc("/builds/{id}", s.handleDonorPage)
	mux.HandleFunc("/xmlrpc/", s.handleXMLRPC)
	mux.HandleFunc("/xmlrpc", s.handleXMLRPC)
	mux.HandleFunc("/builds/{id}/{platform}/{digest}", s.handleArchive)
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
	Page       string              `json:"page"` // the donor's page, /builds/ID
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
		s.refuseBody(w, r, tooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.refuseBody(w, r, tooLarge)
		return
	case err != nil:
		apiError(w, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return
	}
	text, res := s.cfg.Reserve.complete(body)
	if !res.Valid {
		out := errorsBody{Errors: make([]lineError, len(res.Errors))}
		for i, e := range res.Errors {
			out.Errors[i] = lineError{e.Line, e.Message}
		}
		writeJSON(w, http.StatusUnprocessableEntity, out)
		return
	}
	if ok, wait := s.limits.build(s.clientAddr(r)); !ok {
		s.limited.Add(1)
		retryAfter(w, wait)
		apiError(w, http.StatusTooManyRequests, "too many new builds from your address; try again after the Retry-After seconds")
		return
	}
	id := ID(text)
	created, err := s.store.Put(r.Context(), id, text)
	if err != nil {
		s.log.Error("store build", "id", id, "err", err)
		s.unavailable.Add(1)
		retryAfter(w, retryUnavailable)
		apiError(w, http.StatusServiceUnavailable, "the server cannot store builds right now; try again after the Retry-After seconds")
		return
	}
	if created {
		s.stored.Add(1)
		s.log.Info("build stored", "id", id, "bytes", len(text))
	}
	w.Header().Set("Location", "/api/builds/"+id)
	writeJSON(w, http.StatusCreated, createdBody{ID: id, Installers: s.links(id), Page: "/builds/" + id})
}

// Bounds of reading an upload that is refused for its size, so that the
// client reads the 413: clients that send the whole body before reading
// (Python's urllib, many HTTP libraries) get a connection reset instead of
// the answer when a server closes with their bytes unread.
const (
	drainMax    = 128 << 20        // bytes read and discarded at most
	drainLinger = 10 * time.Second // how long the connection stays open for them
)

// refuseBody answers 413 and closes the connection in a way every client
// reads: the answer, then a half-close (FIN: nothing more is coming), then
// the rest of the body read and discarded, up to drainMax and drainLinger,
// before the connection closes.
func (s *Server) refuseBody(w http.ResponseWriter, r *http.Request, msg string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	body = append(body, '\n')
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not HTTP/1 (no connection of our own): the server does its best.
		w.Header().Set("Connection", "close")
		apiError(w, http.StatusRequestEntityTooLarge, msg)
		return
	}
	defer conn.Close()
	if sw, ok := w.(*statusWriter); ok {
		sw.status = http.StatusRequestEntityTooLarge
	}
	h := w.Header().Clone()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 413 Request Entity Too Large\r\n")
	h.Write(&b)
	b.WriteString("\r\n")
	b.Write(body)
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := conn.Write(b.Bytes()); err != nil {
		return
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(drainLinger))
	io.CopyN(io.Discard, brw, drainMax)
}

// retryUnavailable is the Retry-After of a 503: long enough for a database
// to restart or fail over, short enough that a script's retry is not idle.
const retryUnavailable = 5 * time.Second

// load reads a stored build, checking that it is what its ID says.
func (s *Server) load(ctx context.Context, id string) (buildInput, error) {
	rec, err := s.store.Get(ctx, id)
	if err != nil {
		return buildInput{}, err
	}
	if ID(rec.Vesselinfo) != id {
		return buildInput{}, fmt.Errorf("build %s: content does not match its ID (changed in the store?)", id)
	}
	vessels, err := vesselinfo.Parse(rec.Vesselinfo)
	if err != nil {
		return buildInput{}, fmt.Errorf("build %s: stored vesselinfo is invalid: %w", id, err)
	}
	return buildInput{id: id, vesselinfo: rec.Vesselinfo, vessels: vessels}, nil
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
	in, err := s.load(r.Context(), id)
	if errors.Is(err, ErrNoBuild) {
		apiError(w, http.StatusNotFound, "no build with this ID: upload the vesselinfo again with POST /api/builds")
		return
	}
	if err != nil {
		s.log.Error("load build", "id", id, "err", err)
		s.unavailable.Add(1)
		retryAfter(w, retryUnavailable)
		apiError(w, http.StatusServiceUnavailable, "the server cannot read builds right now; try again after the Retry-After seconds")
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
// GET /builds/ID/PLATFORM. HEAD answers from the cache or the store and
// never builds.
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
	addr := s.clientAddr(r)
	done, ok := s.limits.download(addr)
	if !ok {
		s.limited.Add(1)
		retryAfter(w, time.Second)
		pageError(w, http.StatusTooManyRequests, "Too many downloads", fmt.Sprintf("Your address is downloading %d installers already. Try again when one has finished.", s.cfg.DownloadsPerAddress))
		return
	}
	defer done()
	h := w.Header()
	if p.OS() == "windows" {
		h.Set("Content-Type", "application/zip")
	} else {
		h.Set("Content-Type", "application/gzip")
	}
	h.Set("Content-Disposition", `attachment; filename="`+ArchiveName(id, p)+`"`)
	h.Set("ETag", `"`+id+"-"+string(p)+"-"+rec.digest+`"`)
	canonical := "/builds/" + id + "/" + string(p) + "/" + rec.digest
	switch digest := r.PathValue("digest"); digest {
	case "":
		// The URL names the build and the platform, not the base
		// installers, so a new `make dist` changes what it serves: caches
		// revalidate (the strong ETag names all three) after an hour. The
		// URL that names all three is given for caches that want it.
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Content-Location", canonical)
	case rec.digest:
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		s.dropArchiveHeaders(w)
		pageError(w, http.StatusNotFound, "Not found", "This installer was made from other base installers than this server has. Download it from /builds/"+id+"/"+string(p)+".")
		return
	}

	name := cacheName(id, rec)
	f, err := s.cache.open(name)
	if errors.Is(err, fs.ErrNotExist) {
		if r.Method == http.MethodHead {
			s.headUncached(w, r, id, rec)
			return
		}
		f, err = s.build(r, addr, id, rec, name)
	}
	var limited limitedError
	switch {
	case errors.Is(err, ErrNoBuild):
		s.dropArchiveHeaders(w)
		pageError(w, http.StatusNotFound, "Not found", "There is no build with this ID. Upload the vesselinfo file again.")
		return
	case errors.As(err, &limited):
		s.dropArchiveHeaders(w)
		s.limited.Add(1)
		retryAfter(w, time.Duration(limited))
		pageError(w, http.StatusTooManyRequests, "Too many new builds", "Your address has made many new installers in a short time. Try again in a little while.")
		return
	case err != nil:
		s.dropArchiveHeaders(w)
		s.log.Error("archive", "id", id, "platform", p, "err", err)
		s.unavailable.Add(1)
		retryAfter(w, retryUnavailable)
		pageError(w, http.StatusServiceUnavailable, "Try again soon", "The installer cannot be built right now. Try again in a minute, and tell the server's operator if it persists.")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.dropArchiveHeaders(w)
		pageError(w, http.StatusInternalServerError, "Server error", "The installer could not be read.")
		return
	}
	s.noteDownload(id)
	// A slow client still gets the whole archive, at minDownloadRate, but
	// one that stops reading is dropped after Config.Stall.
	deadline := time.Now().Add(writeTimeout + time.Duration(st.Size()/minDownloadRate)*time.Second)
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(deadline)
	s.downloads.Add(1)
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	http.ServeContent(&stallWriter{ResponseWriter: w, rc: rc, stall: s.cfg.Stall, deadline: deadline}, r, "", time.Time{}, f)
}

// dropArchiveHeaders removes the headers of an archive from a response that
// turned out to be an error page.
func (s *Server) dropArchiveHeaders(w http.ResponseWriter) {
	for _, k := range []string{"Content-Disposition", "ETag", "Cache-Control", "Content-Type", "Content-Location"} {
		w.Header().Del(k)
	}
}

// headUncached answers HEAD for an archive not in the cache: the headers of
// the download, its exact length included, or 404 for an unknown build. It
// never builds: the length is counted by writing the archive to a counter,
// which only compresses the few per-build kilobytes, and nothing reaches the
// disk.
func (s *Server) headUncached(w http.ResponseWriter, r *http.Request, id string, rec *recipe) {
	in, err := s.load(r.Context(), id)
	var n counter
	if err == nil {
		err = rec.write(&n, in)
	}
	switch {
	case errors.Is(err, ErrNoBuild):
		s.dropArchiveHeaders(w)
		pageError(w, http.StatusNotFound, "Not found", "There is no build with this ID.")
	case err != nil:
		s.dropArchiveHeaders(w)
		s.unavailable.Add(1)
		retryAfter(w, retryUnavailable)
		pageError(w, http.StatusServiceUnavailable, "Try again soon", "The server cannot read builds right now.")
	default:
		w.Header().Set("Content-Length", strconv.FormatInt(int64(n), 10))
		w.WriteHeader(http.StatusOK)
	}
}

// counter is an io.Writer that counts bytes and keeps none.
type counter int64

func (c *counter) Write(b []byte) (int, error) { *c += counter(len(b)); return len(b), nil }

// limitedError means a client asked for more new builds than its rate
// allows; it is how long until the next one.
type limitedError time.Duration

func (e limitedError) Error() string {
	return fmt.Sprintf("over the rate of new builds; the next in %v", time.Duration(e))
}

// cacheName is the name of an archive in the cache.
func cacheName(id string, r *recipe) string {
	return id + "-" + string(r.platform) + "-" + r.digest + r.platform.ArchiveExt()
}

// ArchiveName is the file name a download is saved as.
func ArchiveName(id string, p Platform) string {
	return "seattle-installer-" + string(p) + "-" + id[:12] + p.ArchiveExt()
}

// build makes one archive into the cache, however many requests ask for it
// at once, and returns it opened. Every request that finds the archive not
// cached pays a token of its address's rate of new builds, before joining
// the build: one address over its rate never fails another's download.
func (s *Server) build(r *http.Request, addr netip.Addr, id string, rec *recipe, name string) (*os.File, error) {
	if ok, wait := s.limits.build(addr); !ok {
		return nil, limitedError(wait)
	}
	_, err, _ := s.flight.Do(name, func() (any, error) {
		if s.cache.has(name) {
			return nil, nil
		}
		start := time.Now()
		// Not the request's context: the others waiting for this build
		// still want it if the first client goes away.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		in, err := s.load(ctx, id)
		if err != nil {
			return nil, err
		}
		f, err := s.cache.add(name, func(f *os.File) error { return rec.write(f, in) })
		if err != nil {
			return nil, err
		}
		f.Close()
		s.built.Add(1)
		s.log.Info("archive built", "id", id, "platform", rec.platform, "took", time.Since(start).Round(time.Millisecond))
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	f, err := s.cache.open(name)
	if errors.Is(err, fs.ErrNotExist) {
		// Built and evicted at once: larger than the whole cache. Build it
		// for this request alone.
		in, lerr := s.load(r.Context(), id)
		if lerr != nil {
			return nil, lerr
		}
		return s.cache.add(name, func(f *os.File) error { return rec.write(f, in) })
	}
	return f, err
}

// noteDownload records a build's download in the store, in the background
// and at most once an hour per build, so that downloads never wait for, or
// fail with, the database.
func (s *Server) noteDownload(id string) {
	now := time.Now()
	if !s.touched.due(id, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		if err := s.store.Downloaded(ctx, id, now); err != nil {
			s.log.Warn("note download", "id", id, "err", err)
		}
	}()
}

// touchedSet remembers when each build's download was last recorded.
type touchedSet struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// touchEvery is how often a build's last download is written to the store.
const touchEvery = time.Hour

func (t *touchedSet) due(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) > 100_000 {
		t.m = map[string]time.Time{}
	}
	if last, ok := t.m[id]; ok && now.Sub(last) < touchEvery {
		return false
	}
	t.m[id] = now
	return true
}

// stallWriter drops a client that stops reading: before every chunk of an
// archive it moves the write deadline to Stall from now (never past the
// download's overall deadline), so a write blocked for Stall fails and the
// connection closes. Chunks go through ReadFrom, so sendfile still sends
// them.
type stallWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	stall    time.Duration
	deadline time.Time
}

// stallChunk is how much is sent under one deadline: a client must read
// this much per Stall, 8 KB/s with the defaults.
const stallChunk = 256 << 10

func (w *stallWriter) extend() {
	d := time.Now().Add(w.stall)
	if d.After(w.deadline) {
		d = w.deadline
	}
	w.rc.SetWriteDeadline(d)
}

func (w *stallWriter) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		w.extend()
		end := min(len(b), n+stallChunk)
		m, err := w.ResponseWriter.Write(b[n:end])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (w *stallWriter) ReadFrom(r io.Reader) (int64, error) {
	// sendfile looks through one io.LimitedReader to the file, not two:
	// take ServeContent's apart and make one per chunk.
	remain := int64(-1)
	if lr, ok := r.(*io.LimitedReader); ok {
		remain, r = lr.N, lr.R
	}
	var total int64
	for remain != 0 {
		chunk := int64(stallChunk)
		if remain > 0 && remain < chunk {
			chunk = remain
		}
		w.extend()
		n, err := io.Copy(w.ResponseWriter, &io.LimitedReader{R: r, N: chunk})
		total += n
		if remain > 0 {
			remain -= n
		}
		if err != nil || n < chunk {
			return total, err
		}
	}
	return total, nil
}

func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
<title>%d %s · Seattle installer builder</title><link rel="stylesheet" href="/common.css"><link rel="stylesheet" href="/app.css"></head>
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
