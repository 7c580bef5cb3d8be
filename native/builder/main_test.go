package builder

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
)

// The tests run the real server on 127.0.0.1. The builder treats a base
// installer as bytes, so most tests pack small fake programs, made once here
// (distinct per platform, incompressible like a real binary):
//
//	fakeBase/seattle-installer-<platform>[.exe]
//	fakeBase/seattle-installer-linux-amd64-webview
//
// TestArchiveWorks, which installs with the programs in an archive, and the
// benchmarks, whose figures are those of the real sizes, use real builds of
// this repository (realBaseWith).
var fakeBase string

// fakeSize is the size of a fake base program: a few socket buffers' worth,
// small enough that packing it costs nothing.
const fakeSize = 64 << 10

func TestMain(m *testing.M) {
	code, err := testMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "builder tests:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func testMain(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "builder-base")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	fakeBase = dir
	for _, p := range Platforms {
		if err := os.WriteFile(filepath.Join(dir, BaseName(p)), fakeProgram(BaseName(p), fakeSize), 0o755); err != nil {
			return 0, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, WebviewBaseName(LinuxAMD64)), fakeProgram(WebviewBaseName(LinuxAMD64), fakeSize), 0o755); err != nil {
		return 0, err
	}
	defer testbin.Cleanup()
	return m.Run(), nil
}

// fakeProgram is size bytes that start with name and go on with random
// bytes drawn from a seed made of name: the same program every run.
func fakeProgram(name string, size int) []byte {
	var seed [32]byte
	copy(seed[:], name)
	b := make([]byte, size)
	r := rand.NewChaCha8(seed)
	r.Read(b)
	copy(b, "fake "+name+"\n")
	return b
}

// baseWith makes a base directory holding only the given platforms' fake
// base installers (and the webview build when linux-amd64 is among them).
func baseWith(t testing.TB, ps ...Platform) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range ps {
		names := []string{BaseName(p)}
		if p == LinuxAMD64 {
			names = append(names, WebviewBaseName(p))
		}
		for _, n := range names {
			if err := os.Link(filepath.Join(fakeBase, n), filepath.Join(dir, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// realBaseWith is baseWith with real builds, as make dist makes them: the
// linux-amd64 build (CGO_ENABLED=0) and its webview (cgo) build, and copies
// of the linux-amd64 build for the other platforms (cross-compiling them
// would cost minutes on a cold cache and test nothing more). They are built
// for linux/amd64 whatever GOARCH the tests were built for.
func realBaseWith(t testing.TB, ps ...Platform) string {
	t.Helper()
	program := testbin.Path(t, testbin.Build{GOOS: "linux", GOARCH: "amd64"})
	dir := t.TempDir()
	for _, p := range ps {
		copyFile(t, program, filepath.Join(dir, BaseName(p)))
		if p == LinuxAMD64 {
			copyFile(t, testbin.Path(t, testbin.Build{GOOS: "linux", GOARCH: "amd64", Cgo: true}), filepath.Join(dir, WebviewBaseName(p)))
		}
	}
	return dir
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// testServer is a Server serving on a loopback port.
type testServer struct {
	*Server
	url  string
	data string
	stop func() error // cancel Serve and wait for it
}

// startServer serves cfg on 127.0.0.1; DataDir defaults to a fresh temp dir,
// BaseDir to every platform, and the per-address limits to none. The server stops when the test ends.
func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(t.TempDir(), "data")
	}
	if cfg.BaseDir == "" {
		cfg.BaseDir = fakeBase
	}
	// The per-address limits are off unless a test is about them: every
	// test client comes from 127.0.0.1.
	if cfg.BuildRate == 0 {
		cfg.BuildRate = -1
	}
	if cfg.DownloadsPerAddress == 0 {
		cfg.DownloadsPerAddress = -1
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() { cancel(); serveErr = <-done; s.Close() })
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return &testServer{Server: s, url: "http://" + ln.Addr().String(), data: cfg.DataDir, stop: stop}
}

// response is what one request got.
type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{res.StatusCode, res.Header, b}
}

// sample is a valid vesselinfo of two vessels.
const sample = "Percent 40\nOwner 123456789123 123456789123456789123456789\n" +
	"User 23456789123 23456789123456789123456789\nPercent 60\nOwner 3456789123 3456789123456789123456789\n"

// archiveFile is one entry of an archive as a reader sees it.
type archiveFile struct {
	name  string
	mode  int64
	mtime time.Time
	uid   int
	owner string // uname/gname for tar
	body  []byte
}

// readArchive reads a tar.gz or zip with the standard library, as a donor's
// tools would.
func readArchive(t *testing.T, p Platform, b []byte) []archiveFile {
	t.Helper()
	var out []archiveFile
	if p.OS() == "windows" {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: zip: %v", p, err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatalf("%s: open %s: %v", p, f.Name, err)
			}
			body, err := io.ReadAll(rc) // checks the CRC-32 too
			rc.Close()
			if err != nil {
				t.Fatalf("%s: read %s: %v", p, f.Name, err)
			}
			out = append(out, archiveFile{name: f.Name, mode: int64(f.Mode().Perm()), mtime: f.Modified, body: body})
		}
		return out
	}
	gr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: gzip: %v", p, err)
	}
	tr := tar.NewReader(gr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: tar: %v", p, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: read %s: %v", p, h.Name, err)
		}
		out = append(out, archiveFile{name: h.Name, mode: h.Mode, mtime: h.ModTime, uid: h.Uid + h.Gid, owner: h.Uname + h.Gname, body: body})
	}
	return out
}

func names(fs []archiveFile) []string {
	var ns []string
	for _, f := range fs {
		ns = append(ns, f.name)
	}
	return ns
}

func isSorted(ns []string) bool { return sort.StringsAreSorted(ns) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
