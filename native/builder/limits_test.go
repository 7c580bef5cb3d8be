package builder

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sizedBase makes a base directory where every platform's base installer is
// a fake program of size bytes: hundreds of archives of small ones, or a
// few big enough to outlast socket buffers.
func sizedBase(t testing.TB, size int) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range Platforms {
		if err := os.WriteFile(filepath.Join(dir, BaseName(p)), fakeProgram(BaseName(p), size), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// vesselinfoN is a valid vesselinfo, different for each n.
func vesselinfoN(n int) string {
	return fmt.Sprintf("Percent 100\nOwner 3 %d\n", 1000+n)
}

// dirSize is the bytes of regular files in dir, as the disk holds them.
func dirSize(t testing.TB, dir string) (files int, size int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			files++
			size += info.Size()
		}
	}
	return files, size
}

// TestCacheStaysUnderItsBound: 300 builds and all their archives, with a
// cache that holds a dozen archives; HEAD requests add nothing to it.
func TestCacheStaysUnderItsBound(t *testing.T) {
	const bound = 1 << 20 // about a dozen 80 KB archives
	s := startServer(t, Config{BaseDir: sizedBase(t, 80<<10), CacheMax: bound})
	cache := filepath.Join(s.data, cacheDir)
	var biggest int64
	for i := range 300 {
		id := createOK(t, s, vesselinfoN(i))
		for _, p := range Platforms {
			url := s.url + "/builds/" + id + "/" + string(p)
			before, _ := dirSize(t, cache)
			h := do(t, "HEAD", url, nil)
			if n, _ := dirSize(t, cache); h.status != 200 || n != before {
				t.Fatalf("HEAD %s: %d; cache went from %d to %d files", p, h.status, before, n)
			}
			r := do(t, "GET", url, nil)
			if r.status != 200 {
				t.Fatalf("GET %s: %d", p, r.status)
			}
			if cl, _ := strconv.Atoi(h.header.Get("Content-Length")); cl != len(r.body) {
				t.Fatalf("HEAD said %d bytes, GET gave %d", cl, len(r.body))
			}
			biggest = max(biggest, int64(len(r.body)))
			if _, size := dirSize(t, cache); size > bound {
				t.Fatalf("after build %d: the cache holds %d bytes, over its bound of %d", i, size, bound)
			}
		}
	}
	c := s.Counters()
	files, size := dirSize(t, cache)
	t.Logf("300 builds, %d archives built; the cache holds %d archives, %d bytes (bound %d)", c.Built, files, size, bound)
	if c.Built != 300*int64(len(Platforms)) || files != c.Cached || size != c.CacheSize {
		t.Errorf("built %d; cache on disk %d files %d bytes, counted %d files %d bytes", c.Built, files, size, c.Cached, c.CacheSize)
	}
	if size < bound-2*biggest {
		t.Errorf("the cache holds %d bytes, far under its bound %d: eviction removes too much", size, bound)
	}
}

// TestCacheEvictsLeastRecentlyUsed: an archive downloaded again stays,
// the one not used for longest goes.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	c, _, err := openCache(dir, 300)
	if err != nil {
		t.Fatal(err)
	}
	put := func(name string) {
		f, err := c.add(name, func(f *os.File) error { _, err := f.Write(make([]byte, 100)); return err })
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	put("a")
	put("b")
	put("c")
	if f, err := c.open("a"); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	put("d") // evicts b, the least recently used
	for name, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		_, err := os.Stat(filepath.Join(dir, name))
		if (err == nil) != want || c.has(name) != want {
			t.Errorf("%s: on disk %v, cached %v; want %v", name, err == nil, c.has(name), want)
		}
	}
	// A restart keeps the bound and forgets nothing on disk.
	c2, _, err := openCache(dir, 150)
	if err != nil {
		t.Fatal(err)
	}
	if n, size := c2.stats(); n != 1 || size != 100 {
		t.Errorf("reopened with a bound of 150: %d archives, %d bytes", n, size)
	}
	// An archive larger than the bound is served once and not kept.
	f, err := c2.add("huge", func(f *os.File) error { _, err := f.Write(make([]byte, 1000)); return err })
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if len(b) != 1000 || c2.has("huge") {
		t.Errorf("archive over the bound: read %d bytes, kept %v", len(b), c2.has("huge"))
	}
}

// TestBuildRateLimit: an address gets its burst of new builds, then 429
// with Retry-After, for uploads and for first downloads alike; archives in
// the cache and builds already made are not limited.
func TestBuildRateLimit(t *testing.T) {
	s := startServer(t, Config{BaseDir: sizedBase(t, 1<<10), BuildRate: 0.01, BuildBurst: 3})
	id := createOK(t, s, vesselinfoN(0))
	if r := do(t, "GET", s.url+"/builds/"+id+"/linux-amd64", nil); r.status != 200 {
		t.Fatalf("first download: %d", r.status)
	}
	createOK(t, s, vesselinfoN(1))
	r := do(t, "POST", s.url+"/api/builds", strings.NewReader(vesselinfoN(2)))
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("fourth new build: %d, want 429", r.status)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 200 {
		t.Errorf("Retry-After %q, want about 100 s (one build at 0.01/s)", r.header.Get("Retry-After"))
	}
	if r := do(t, "GET", s.url+"/builds/"+id+"/darwin-arm64", nil); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("an uncached archive over the limit: %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	if r := do(t, "GET", s.url+"/builds/"+id+"/linux-amd64", nil); r.status != 200 {
		t.Errorf("a cached archive over the limit: %d, want 200", r.status)
	}
	if r := do(t, "GET", s.url+"/api/builds/"+id, nil); r.status != 200 {
		t.Errorf("reading a build over the limit: %d, want 200", r.status)
	}
	if c := s.Counters(); c.Limited != 2 || c.Stored != 2 {
		t.Errorf("limited %d, stored %d; want 2 and 2", c.Limited, c.Stored)
	}
}

// slowClient connects with a tiny receive buffer and reads the response
// head of a GET, then reads nothing more until told.
func slowGet(t *testing.T, url string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: smallRecvBuffer}
	c, err := d.Dial("tcp", strings.TrimPrefix(url, "http://")[:strings.Index(strings.TrimPrefix(url, "http://"), "/")])
	if err != nil {
		t.Fatal(err)
	}
	path := url[strings.Index(strings.TrimPrefix(url, "http://"), "/")+len("http://"):]
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	head := make([]byte, 512)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAtLeast(c, head, 12); err != nil || !strings.HasPrefix(string(head), "HTTP/1.1 200") {
		t.Fatalf("slow GET: %q %v", head, err)
	}
	return c
}

// TestStalledReaderIsDropped: a client that stops reading loses its
// connection after the stall bound, not after the download's whole time.
func TestStalledReaderIsDropped(t *testing.T) {
	s := startServer(t, Config{BaseDir: sizedBase(t, 8<<20), Stall: time.Second})
	id := createOK(t, s, sample)
	url := s.url + "/builds/" + id + "/linux-amd64"
	full := do(t, "GET", url, nil) // built and cached
	c := slowGet(t, url)
	defer c.Close()
	start := time.Now()
	for s.inFlight.Load() != 0 {
		if time.Since(start) > 20*time.Second {
			t.Fatal("a stalled download still runs after 20 s (stall bound 1 s)")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("stalled download dropped after %v", time.Since(start).Round(10*time.Millisecond))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _ := io.Copy(io.Discard, c)
	if n >= int64(len(full.body)) {
		t.Errorf("the stalled client still got all %d bytes", n)
	}
}

// TestDownloadsPerAddress: beyond the cap, 429 with Retry-After; a slot is
// free again once a download ends.
func TestDownloadsPerAddress(t *testing.T) {
	s := startServer(t, Config{BaseDir: sizedBase(t, 8<<20), DownloadsPerAddress: 2})
	id := createOK(t, s, sample)
	url := s.url + "/builds/" + id + "/linux-amd64"
	do(t, "GET", url, nil)
	a, b := slowGet(t, url), slowGet(t, url)
	r := do(t, "GET", url, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("third download at once: %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	a.Close()
	b.Close()
	deadline := time.Now().Add(10 * time.Second)
	for s.inFlight.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if r := do(t, "GET", url, nil); r.status != 200 {
		t.Errorf("download after the others ended: %d", r.status)
	}
}

// TestConnectionCap: with a cap of 4, four idle connections leave a fifth
// waiting unanswered; closing one lets it through.
func TestConnectionCap(t *testing.T) {
	s := startServer(t, Config{BaseDir: sizedBase(t, 1<<10), MaxConns: 4})
	host := strings.TrimPrefix(s.url, "http://")
	var idle []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A request, so the server has surely accepted this connection.
		fmt.Fprintf(c, "GET /api/builds/x HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	got := make(chan int, 1)
	go func() {
		res, err := http.Get(s.url + "/api/builds/x")
		if err != nil {
			got <- -1
			return
		}
		res.Body.Close()
		got <- res.StatusCode
	}()
	select {
	case code := <-got:
		t.Fatalf("a fifth connection was answered (%d) while four were open", code)
	case <-time.After(time.Second):
	}
	idle[0].Close()
	select {
	case code := <-got:
		if code != 404 {
			t.Errorf("fifth connection: %d, want 404", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fifth connection was not answered after one closed")
	}
}

// TestDatabaseDown: with the database killed, uploads and reads answer 503
// with Retry-After while cached archives still download; once it is back,
// the same server works again, without a restart.
func TestDatabaseDown(t *testing.T) {
	pg := postgres(t)
	store := openPG(t, pg.NewDatabase())
	s := startServer(t, Config{BaseDir: sizedBase(t, 64<<10), Store: store})
	id := createOK(t, s, sample)
	cached := do(t, "GET", s.url+"/builds/"+id+"/linux-amd64", nil)
	pg.Kill()
	for _, tc := range []struct {
		method, path string
		body         string
		status       int
	}{
		{"POST", "/api/builds", vesselinfoN(1), 503},
		{"GET", "/api/builds/" + id, "", 503},
		{"GET", "/builds/" + id + "/windows-amd64", "", 503},
		{"HEAD", "/builds/" + id + "/windows-amd64", "", 503},
		{"GET", "/builds/" + id + "/linux-amd64", "", 200},
		{"GET", "/", "", 200},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		start := time.Now()
		r := do(t, tc.method, s.url+tc.path, body)
		if r.status != tc.status {
			t.Errorf("%s %s with the database down: %d, want %d", tc.method, tc.path, r.status, tc.status)
		}
		if tc.status == 503 && r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", tc.method, tc.path)
		}
		if took := time.Since(start); took > 2*dbTimeout {
			t.Errorf("%s %s took %v with the database down", tc.method, tc.path, took)
		}
		if tc.path == "/builds/"+id+"/linux-amd64" && string(r.body) != string(cached.body) {
			t.Error("the cached archive changed")
		}
	}
	pg.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := do(t, "POST", s.url+"/api/builds", strings.NewReader(vesselinfoN(1)))
		if r.status == 201 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the database came back, uploads still answer %d", r.status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := do(t, "GET", s.url+"/builds/"+id+"/windows-amd64", nil); r.status != 200 {
		t.Errorf("download after recovery: %d", r.status)
	}
}

// TestFullDisk: when the disk is full, a new archive answers 503 with
// Retry-After, uploads to the embedded store too, and what is cached is
// still served. The data directory is a real 6 MiB tmpfs (the tests run as
// root in CI).
func TestFullDisk(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test mounts a small tmpfs to fill it, which needs root; run the tests as root (CI does)")
	}
	data := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", data).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", data).Run() })
	s := startServer(t, Config{DataDir: data, BaseDir: sizedBase(t, 2<<20)})
	id := createOK(t, s, sample)
	first := do(t, "GET", s.url+"/builds/"+id+"/linux-amd64", nil)
	if first.status != 200 {
		t.Fatalf("first archive: %d", first.status)
	}
	// Fill what is left.
	filler, err := os.Create(filepath.Join(data, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(filler, io.LimitReader(zeros{}, 64<<20))
	filler.Close()
	var failed response
	for _, p := range Platforms[1:] {
		if failed = do(t, "GET", s.url+"/builds/"+id+"/"+string(p), nil); failed.status != 200 {
			break
		}
	}
	if failed.status != 503 || failed.header.Get("Retry-After") == "" {
		t.Errorf("new archive on a full disk: %d (Retry-After %q), want 503", failed.status, failed.header.Get("Retry-After"))
	}
	if r := do(t, "POST", s.url+"/api/builds", strings.NewReader(vesselinfoN(9))); r.status != 503 {
		t.Errorf("upload on a full disk: %d, want 503", r.status)
	}
	if r := do(t, "GET", s.url+"/builds/"+id+"/linux-amd64", nil); r.status != 200 || string(r.body) != string(first.body) {
		t.Errorf("cached archive on a full disk: %d", r.status)
	}
	os.Remove(filepath.Join(data, "filler"))
	if r := do(t, "POST", s.url+"/api/builds", strings.NewReader(vesselinfoN(9))); r.status != 201 {
		t.Errorf("upload once there is room: %d", r.status)
	}
	if tmp, _ := filepath.Glob(filepath.Join(data, cacheDir, ".*")); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// createOK uploads text and returns the build's ID.
func createOK(t testing.TB, s *testServer, text string) string {
	t.Helper()
	r := do(t, "POST", s.url+"/api/builds", strings.NewReader(text))
	if r.status != 201 {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	return ID([]byte(text))
}

// TestFullListenerCloses: a listener at its cap stops waiting for a free
// slot when closed, so a server with every connection taken still shuts
// down.
func TestFullListenerCloses(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 1)
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	errc := make(chan error, 1)
	go func() { _, err := ln.Accept(); errc <- err }()
	time.Sleep(100 * time.Millisecond)
	ln.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("Accept on a closed full listener returned a connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waits for a slot after Close")
	}
}
