package builder

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// securityHeaders are on every response, errors included.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "frame-ancestors 'none'",
	"X-Content-Type-Options":  "nosniff",
}

func checkSecurityHeaders(t *testing.T, r response) {
	t.Helper()
	for h, want := range securityHeaders {
		if got := r.header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want it to contain %q", h, got, want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "'wasm-unsafe-eval'") {
		t.Errorf("Content-Security-Policy %q lacks default-src 'self' or 'wasm-unsafe-eval'", csp)
	}
	if v := r.header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("Access-Control-Allow-Origin: %q, want none", v)
	}
}

func TestAPI(t *testing.T) {
	s := startServer(t, Config{})
	created := do(t, "POST", s.url+"/api/builds", strings.NewReader(sample))
	if created.status != http.StatusCreated {
		t.Fatalf("POST valid: %d %s", created.status, created.body)
	}
	var cb struct {
		ID         string            `json:"id"`
		Installers map[string]string `json:"installers"`
	}
	if err := json.Unmarshal(created.body, &cb); err != nil {
		t.Fatalf("POST valid: %v: %s", err, created.body)
	}
	id := cb.ID
	if id != ID([]byte(sample)) || !validID(id) {
		t.Fatalf("id %q, want %q", id, ID([]byte(sample)))
	}
	wantLinks := map[string]string{}
	for _, p := range Platforms {
		wantLinks[string(p)] = "/builds/" + id + "/" + string(p)
	}
	if !reflect.DeepEqual(cb.Installers, wantLinks) {
		t.Errorf("installers %v, want %v", cb.Installers, wantLinks)
	}
	if loc := created.header.Get("Location"); loc != "/api/builds/"+id {
		t.Errorf("Location %q", loc)
	}
	if got := s.Counters().Stored; got != 1 {
		t.Errorf("stored %d builds, want 1", got)
	}

	invalid := "Percent 45\nOwner 5 3\nUser x\n"
	validatorErrors := func() []lineError {
		var es []lineError
		for _, e := range vesselinfo.Validate([]byte(invalid)).Errors {
			es = append(es, lineError{e.Line, e.Message})
		}
		return es
	}()
	absent := strings.Repeat("0", IDLen)

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		json                     bool   // API answer: JSON; else an HTML page
		in                       string // in the body
	}{
		{"post same file again", "POST", "/api/builds", sample, 201, true, `"id":"` + id + `"`},
		{"post with CRLF line ends is the same build", "POST", "/api/builds", strings.ReplaceAll(sample, "\n", "\r\n"), 201, true, `"id":"` + id + `"`},
		{"post invalid", "POST", "/api/builds", invalid, 422, true, `"errors":[{"line":1,`},
		{"post empty", "POST", "/api/builds", "", 422, true, "vesselinfo is empty"},
		{"post too large", "POST", "/api/builds", strings.Repeat("x", DefaultMaxBody+1), 413, true, "larger than the limit of 1 MiB"},
		{"get on builds", "GET", "/api/builds", "", 405, true, "use POST"},
		{"delete on builds", "DELETE", "/api/builds", "", 405, true, "use POST"},
		{"get build", "GET", "/api/builds/" + id, "", 200, true, `"vesselinfo":"Percent 40\n`},
		{"put build", "PUT", "/api/builds/" + id, "x", 405, true, "use GET"},
		{"get unknown build", "GET", "/api/builds/" + absent, "", 404, true, "no build with this ID"},
		{"get upper-case ID", "GET", "/api/builds/" + strings.ToUpper(id), "", 404, true, "hexadecimal digits"},
		{"get short ID", "GET", "/api/builds/" + id[:IDLen-1], "", 404, true, "hexadecimal digits"},
		{"get long ID", "GET", "/api/builds/" + id + "0", "", 404, true, "hexadecimal digits"},
		{"get dot-dot ID escaped", "GET", "/api/builds/%2e%2e", "", 404, true, "hexadecimal digits"},
		{"get slash in ID escaped", "GET", "/api/builds/..%2F..%2Fetc", "", 404, true, "hexadecimal digits"},
		{"get unknown API", "GET", "/api/nope", "", 404, true, "no such API"},
		{"download", "GET", "/builds/" + id + "/linux-amd64", "", 200, false, ""},
		{"download unknown platform", "GET", "/builds/" + id + "/plan9-amd64", "", 404, false, "no installer for the platform"},
		{"download unknown build", "GET", "/builds/" + absent + "/linux-amd64", "", 404, false, "no build with this ID"},
		{"download malformed ID", "GET", "/builds/%2e%2e/linux-amd64", "", 404, false, "no build with this ID"},
		{"download with POST", "POST", "/builds/" + id + "/linux-amd64", "", 405, false, "GET"},
		{"the donor page, without a platform", "GET", "/builds/" + id, "", 200, false, "Share a little of this computer"},
		{"no listing of builds", "GET", "/builds/", "", 404, false, "nothing at this address"},
		{"page", "GET", "/", "", 200, false, "<!doctype html>"},
		{"page with POST", "POST", "/", "", 405, false, "only serves a page"},
		{"validator", "GET", "/validator.wasm", "", 200, false, "\x00asm"},
		{"unknown page", "GET", "/nope.html", "", 404, false, "nothing at this address"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			r := do(t, tc.method, s.url+tc.path, body)
			if r.status != tc.status {
				t.Errorf("status %d, want %d; body: %.300s", r.status, tc.status, r.body)
			}
			if !bytes.Contains(r.body, []byte(tc.in)) {
				t.Errorf("body lacks %q: %.300s", tc.in, r.body)
			}
			ct := r.header.Get("Content-Type")
			switch {
			case tc.json && ct != "application/json":
				t.Errorf("Content-Type %q, want JSON", ct)
			case tc.json && !json.Valid(r.body):
				t.Errorf("body is not JSON: %.300s", r.body)
			case !tc.json && r.status >= 400 && !strings.HasPrefix(ct, "text/html"):
				t.Errorf("error page Content-Type %q, want HTML", ct)
			}
			if r.status == 405 && r.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			checkSecurityHeaders(t, r)
		})
	}

	t.Run("invalid_gives_exactly_the_validators_errors", func(t *testing.T) {
		r := do(t, "POST", s.url+"/api/builds", strings.NewReader(invalid))
		var got errorsBody
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Errors, validatorErrors) || len(got.Errors) < 3 {
			t.Errorf("errors %+v\nwant the validator's %+v", got.Errors, validatorErrors)
		}
	})
	t.Run("too_large_without_content_length", func(t *testing.T) {
		// A chunked upload has no Content-Length to refuse up front; the
		// limit applies while reading.
		big := io.MultiReader(strings.NewReader(sample), strings.NewReader(strings.Repeat("User 3 5\n", DefaultMaxBody/9+1)))
		r := do(t, "POST", s.url+"/api/builds", struct{ io.Reader }{big})
		if r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413: %s", r.status, r.body)
		}
	})
	t.Run("get_build_returns_text_vessels_and_links", func(t *testing.T) {
		r := do(t, "GET", s.url+"/api/builds/"+id, nil)
		var got buildBody
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Vesselinfo != sample || got.ID != id || len(got.Installers) != len(Platforms) ||
			len(got.Vessels) != 2 || got.Vessels[0].Percent != 40 || len(got.Vessels[0].Users) != 1 {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("download_headers", func(t *testing.T) {
		r := do(t, "GET", s.url+"/builds/"+id+"/windows-amd64", nil)
		cd := r.header.Get("Content-Disposition")
		if want := `attachment; filename="seattle-installer-windows-amd64-` + id[:12] + `.zip"`; cd != want {
			t.Errorf("Content-Disposition %q, want %q", cd, want)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/zip" {
			t.Errorf("Content-Type %q", ct)
		}
		etag := r.header.Get("ETag")
		again := do(t, "GET", s.url+"/builds/"+id+"/windows-amd64", nil, "If-None-Match", etag)
		if etag == "" || again.status != http.StatusNotModified {
			t.Errorf("ETag %q; conditional GET: %d, want 304", etag, again.status)
		}
		head := do(t, "HEAD", s.url+"/builds/"+id+"/windows-amd64", nil)
		if head.status != 200 || head.header.Get("Content-Length") != r.header.Get("Content-Length") || len(head.body) != 0 {
			t.Errorf("HEAD: %d, Content-Length %q (GET %q), %d body bytes", head.status,
				head.header.Get("Content-Length"), r.header.Get("Content-Length"), len(head.body))
		}
	})
	t.Run("dot-dot_in_path_never_reaches_a_handler", func(t *testing.T) {
		// The mux answers a path with .. with a redirect to the clean path.
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get(s.url + "/builds/../../etc/passwd")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode/100 != 3 || res.Header.Get("Location") != "/etc/passwd" {
			t.Errorf("status %d Location %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

// TestMalformedIDNeverTouchesFiles puts a valid build where a path made from a
// malformed ID would lead, and checks that the server never finds it.
func TestMalformedIDNeverTouchesFiles(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	// DATA/../vesselinfo and DATA/../linux-amd64-*.tar.gz: what ID ".." would reach.
	if err := os.WriteFile(filepath.Join(root, "vesselinfo"), []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{DataDir: data, BaseDir: baseWith(t, LinuxAMD64)})
	for _, path := range []string{"/api/builds/%2e%2e", "/builds/%2e%2e/linux-amd64", "/builds/%2E%2E/linux-amd64", "/api/builds/%2e", "/builds/%2f/linux-amd64"} {
		r := do(t, "GET", s.url+path, nil)
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404: %.200s", path, r.status, r.body)
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 2 || s.Counters().Built != 0 {
		t.Errorf("files beside the data directory: %d (want data and vesselinfo only); built %d", len(entries), s.Counters().Built)
	}
}

func TestHostileUploads(t *testing.T) {
	s := startServer(t, Config{BaseDir: baseWith(t, LinuxAMD64)})
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	var users strings.Builder
	users.WriteString("Percent 100\nOwner 3 5\n")
	for range 10000 {
		users.WriteString("User 3 5\n")
	}
	for _, tc := range []struct {
		name   string
		body   string
		status int
		in     string
	}{
		{"binary junk", string(junk), 422, "unknown label"},
		{"NUL bytes", strings.Repeat("\x00", 1000), 422, `unknown label`},
		{"NUL inside a line", "Percent 100\x00\nOwner 3 5\n", 422, "Percent must be a whole number"},
		{"100,000-digit key", "Percent 100\nOwner 3 " + strings.Repeat("7", 100000) + "\n", 422, "has 100000 digits, more than the 4300"},
		{"10,000 users in one vessel", users.String(), 422, "more than 1000 User keys"},
		{"UTF-16", "\xff\xfeP\x00e\x00", 422, "UTF-16"},
		{"invalid UTF-8", "Percent 100\nOwner\xc3\x28 3 5\n", 422, "unknown label"},
		{"one huge line", strings.Repeat("A", DefaultMaxBody), 422, "unknown label"},
		{"just over the limit", strings.Repeat("\n", DefaultMaxBody+1), 413, "limit"},
		{"10 MiB", strings.Repeat("Percent 100\n", 10<<20/12), 413, "limit"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := do(t, "POST", s.url+"/api/builds", strings.NewReader(tc.body))
			if r.status != tc.status {
				t.Errorf("status %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			if !bytes.Contains(r.body, []byte(tc.in)) || !json.Valid(r.body) {
				t.Errorf("body lacks %q or is not JSON: %.300s", tc.in, r.body)
			}
			if len(r.body) > 64<<10 {
				t.Errorf("answer of %d bytes: errors should be bounded", len(r.body))
			}
		})
	}
	builds, err := filepath.Glob(filepath.Join(s.data, "*", entryVesselinfo))
	if err != nil || len(builds) != 0 || s.Counters().Stored != 0 {
		t.Errorf("after hostile uploads: data dir has %d builds (%v), stored %d; want none", len(builds), err, s.Counters().Stored)
	}
	// The server still works.
	if r := do(t, "POST", s.url+"/api/builds", strings.NewReader(sample)); r.status != 201 {
		t.Errorf("valid upload after hostile ones: %d", r.status)
	}
}

func TestMissingBaseInstallerIsLeftOut(t *testing.T) {
	s := startServer(t, Config{BaseDir: baseWith(t, LinuxAMD64, WindowsAMD64)})
	r := do(t, "POST", s.url+"/api/builds", strings.NewReader(sample))
	var cb createdBody
	if err := json.Unmarshal(r.body, &cb); err != nil {
		t.Fatal(err)
	}
	if len(cb.Installers) != 2 || cb.Installers[LinuxAMD64] == "" || cb.Installers[WindowsAMD64] == "" {
		t.Errorf("installers %v, want linux-amd64 and windows-amd64 only", cb.Installers)
	}
	if r := do(t, "GET", s.url+"/builds/"+cb.ID+"/darwin-arm64", nil); r.status != 404 {
		t.Errorf("download of a platform without base: %d, want 404", r.status)
	}
}

func TestNoBaseDirectory(t *testing.T) {
	_, err := New(Config{DataDir: t.TempDir(), BaseDir: filepath.Join(t.TempDir(), "missing")})
	if err == nil || !strings.Contains(err.Error(), "make dist") {
		t.Errorf("New with a missing base directory: %v, want an error that says to run make dist", err)
	}
}

func TestOversizedHeaders(t *testing.T) {
	s := startServer(t, Config{BaseDir: baseWith(t, LinuxAMD64)})
	r := do(t, "GET", s.url+"/", nil, "X-Junk", strings.Repeat("a", 100<<10))
	if r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("100 KiB of headers: %d, want 431", r.status)
	}
}

// TestSlowHeadersAreCut: a client that never finishes its request
// (slowloris) loses its connection after the header timeout.
func TestSlowHeadersAreCut(t *testing.T) {
	s, err := New(Config{DataDir: t.TempDir(), BaseDir: baseWith(t, LinuxAMD64)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.readHeaderTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx, ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a connection with unfinished headers open for 10 s")
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("connection closed after %v, before the header timeout", waited)
	}
}
