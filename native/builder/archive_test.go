package builder

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/assets"
	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/resource"
)

// create uploads vesselinfo and returns the build ID.
func create(t *testing.T, s *testServer, text string) string {
	t.Helper()
	r := do(t, "POST", s.url+"/api/builds", strings.NewReader(text))
	if r.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	var cb createdBody
	if err := json.Unmarshal(r.body, &cb); err != nil {
		t.Fatal(err)
	}
	return cb.ID
}

func download(t *testing.T, s *testServer, id string, p Platform) []byte {
	t.Helper()
	r := do(t, "GET", s.url+"/builds/"+id+"/"+string(p), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", p, r.status, r.body)
	}
	return r.body
}

func TestArchiveContents(t *testing.T) {
	s := startServer(t, Config{})
	crlf := strings.ReplaceAll(sample, "\n", "\r\n")
	id := create(t, s, crlf) // stored normalized
	webview, err := os.ReadFile(filepath.Join(fakeBase, WebviewBaseName(LinuxAMD64)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Platforms {
		t.Run(string(p), func(t *testing.T) {
			b := download(t, s, id, p)
			files := readArchive(t, p, b)
			prog := "seattle/seattle_repy/seattle-installer"
			want := map[string][]byte{
				"seattle/":                                 nil,
				"seattle/README.txt":                       nil, // checked below
				"seattle/seattle_repy/":                    nil,
				"seattle/seattle_repy/resources.offcut":    assets.Offcut(),
				"seattle/seattle_repy/vessel.restrictions": assets.Restrictions(),
				"seattle/seattle_repy/vesselinfo":          []byte(sample),
			}
			switch p.OS() {
			case "windows":
				prog += ".exe"
			case "linux":
				want["seattle/install.sh"] = []byte(installSh)
				if p == LinuxAMD64 {
					want["seattle/seattle_repy/seattle-installer-webview"] = webview
				}
			}
			// Each platform's own program, byte for byte.
			program, err := os.ReadFile(filepath.Join(fakeBase, BaseName(p)))
			if err != nil {
				t.Fatal(err)
			}
			want[prog] = program
			if ns := names(files); !isSorted(ns) || len(ns) != len(want) {
				t.Errorf("entries %q: want %d, sorted", ns, len(want))
			}
			for _, f := range files {
				w, ok := want[f.name]
				if !ok {
					t.Errorf("unexpected entry %s", f.name)
					continue
				}
				if w != nil && !bytes.Equal(f.body, w) {
					t.Errorf("%s: %d bytes differ from the %d expected", f.name, len(f.body), len(w))
				}
				mode := int64(0o644)
				if strings.HasSuffix(f.name, "/") || strings.Contains(f.name, "seattle-installer") || strings.HasSuffix(f.name, ".sh") {
					mode = 0o755
				}
				if f.mode != mode || !f.mtime.Equal(ArchiveTime) || f.uid != 0 || f.owner != "" {
					t.Errorf("%s: mode %o mtime %v ids %d owner %q; want %o, %v, 0, none", f.name, f.mode, f.mtime, f.uid, f.owner, mode, ArchiveTime)
				}
				if f.name == "seattle/README.txt" {
					cmd := map[string]string{"linux": "./install.sh", "darwin": "./seattle_repy/seattle-installer install", "windows": "seattle_repy\\seattle-installer.exe install"}[p.OS()]
					if !bytes.Contains(f.body, []byte(cmd)) || !bytes.Contains(f.body, []byte(id)) {
						t.Errorf("README.txt lacks the command %q or the ID:\n%s", cmd, f.body)
					}
				}
			}
			if p.OS() != "windows" {
				checkGzipHeaders(t, b)
			}
		})
	}
}

// checkGzipHeaders reads every gzip member and checks that none carries a
// name or a time, which would make archives differ between machines.
func checkGzipHeaders(t *testing.T, b []byte) {
	t.Helper()
	// A bytes.Reader is an io.ByteReader, so gzip reads no further than the
	// end of each member and Reset continues with the next one.
	br := bytes.NewReader(b)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	members := 0
	for {
		members++
		zr.Multistream(false)
		if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() || zr.Extra != nil || zr.OS != 255 {
			t.Errorf("gzip member %d: name %q comment %q time %v extra %q OS %d", members, zr.Name, zr.Comment, zr.ModTime, zr.Extra, zr.OS)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		if br.Len() == 0 {
			break
		}
		if err := zr.Reset(br); err != nil {
			t.Fatal(err)
		}
	}
	if members < 3 {
		t.Errorf("%d gzip members, want the precompressed ones and the per-build ones", members)
	}
}

func TestReproducibleAcrossServers(t *testing.T) {
	// Two servers share nothing: different data directories, different base
	// directories (the same programs), each precompressing on its own.
	a := startServer(t, Config{BaseDir: baseWith(t, Platforms...)})
	b := startServer(t, Config{BaseDir: baseWith(t, Platforms...)})
	id := create(t, a, sample)
	if idb := create(t, b, strings.ReplaceAll(sample, "\n", "\r\n")); idb != id {
		t.Fatalf("IDs differ: %s and %s", id, idb)
	}
	for _, p := range Platforms {
		x, y := download(t, a, id, p), download(t, b, id, p)
		if !bytes.Equal(x, y) {
			t.Errorf("%s: archives differ (%d and %d bytes)", p, len(x), len(y))
		}
		// And the cached copy is what was served.
		if z := download(t, a, id, p); !bytes.Equal(x, z) {
			t.Errorf("%s: the cached archive differs from the first", p)
		}
	}
	if a.Counters().Built != int64(len(Platforms)) {
		t.Errorf("server a built %d archives, want %d", a.Counters().Built, len(Platforms))
	}
}

func TestConcurrentFirstDownloadsBuildOnce(t *testing.T) {
	s := startServer(t, Config{BaseDir: baseWith(t, LinuxAMD64, WindowsAMD64)})
	if err := s.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := create(t, s, sample)
	const clients = 40
	sums := make(chan [32]byte, 2*clients)
	var wg sync.WaitGroup
	for i := range 2 * clients {
		p := []Platform{LinuxAMD64, WindowsAMD64}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(s.url + "/builds/" + id + "/" + string(p))
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			h := sha256.New()
			if _, err := io.Copy(h, res.Body); err != nil || res.StatusCode != 200 {
				t.Errorf("%s: %d %v", p, res.StatusCode, err)
				return
			}
			if p == LinuxAMD64 {
				var sum [32]byte
				copy(sum[:], h.Sum(nil))
				sums <- sum
			}
		}()
	}
	wg.Wait()
	close(sums)
	first := <-sums
	for sum := range sums {
		if sum != first {
			t.Error("concurrent downloads got different bytes")
		}
	}
	if c := s.Counters(); c.Built != 2 || c.Downloads != 2*clients {
		t.Errorf("%d downloads built %d archives, want 2 (one per platform)", c.Downloads, c.Built)
	}
	// Nothing temporary is left behind.
	entries, _ := os.ReadDir(filepath.Join(s.data, cacheDir))
	if len(entries) != 2 {
		t.Errorf("the cache holds %d files, want 2 archives", len(entries))
	}
}

func TestCacheSurvivesRestart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	base := baseWith(t, WindowsAMD64)
	a := startServer(t, Config{DataDir: data, BaseDir: base})
	id := create(t, a, sample)
	first := download(t, a, id, WindowsAMD64)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	b := startServer(t, Config{DataDir: data, BaseDir: base})
	if r := do(t, "GET", b.url+"/api/builds/"+id, nil); r.status != 200 {
		t.Fatalf("build after restart: %d", r.status)
	}
	if again := download(t, b, id, WindowsAMD64); !bytes.Equal(first, again) || b.Counters().Built != 0 {
		t.Errorf("after restart: same bytes %v, built %d (want served from the cache)", bytes.Equal(first, again), b.Counters().Built)
	}
}

// TestArchiveWorks extracts the linux-amd64 archive with tar, as a donor
// would, and installs with the programs inside it.
func TestArchiveWorks(t *testing.T) {
	base := realBaseWith(t, LinuxAMD64)
	s := startServer(t, Config{BaseDir: base})
	id := create(t, s, sample)
	archive := filepath.Join(t.TempDir(), ArchiveName(id, LinuxAMD64))
	if err := os.WriteFile(archive, download(t, s, id, LinuxAMD64), 0o644); err != nil {
		t.Fatal(err)
	}
	measured := filepath.Join(t.TempDir(), "measured.json")
	writeMeasured(t, measured)

	// A WebKitGTK that cannot be loaded: the dynamic loader finds this empty
	// file first and refuses to start the webview build, as on a machine
	// without WebKitGTK.
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "libwebkit2gtk-4.0.so.37"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("ldd", filepath.Join(base, WebviewBaseName(LinuxAMD64))).Output(); !bytes.Contains(out, []byte("libwebkit2gtk")) {
		t.Fatalf("the webview build does not link WebKitGTK, so the fallback cannot be tested:\n%s", out)
	}

	for _, tc := range []struct {
		name string
		cmd  func(dir string) []string
		env  []string
		ran  string // in the shell's trace: the program install.sh started
	}{
		{"program", func(dir string) []string {
			return []string{filepath.Join(dir, NodeDir, "seattle-installer"), "install", "--measured", measured, "--ui", "none", "--yes", "--dir", filepath.Join(dir, "node")}
		}, nil, ""},
		{"install.sh starts the webview build", func(dir string) []string {
			return []string{"sh", "-x", filepath.Join(dir, "install.sh"), "--measured", measured, "--ui", "none", "--yes", "--dir", filepath.Join(dir, "node")}
		}, nil, "exec " + webviewName + " install --measured"},
		{"install.sh falls back without WebKitGTK", func(dir string) []string {
			return []string{"sh", "-x", filepath.Join(dir, "install.sh"), "--measured", measured, "--ui", "none", "--yes", "--dir", filepath.Join(dir, "node")}
		}, []string{"LD_LIBRARY_PATH=" + broken}, "exec " + programName + " install --measured"},
		{"install.sh into its own folder", func(dir string) []string {
			return []string{filepath.Join(dir, "install.sh"), "--measured", measured, "--ui", "none", "--yes"}
		}, nil, ""},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			root := t.TempDir()
			if out, err := exec.Command("tar", "-xzf", archive, "-C", root).CombinedOutput(); err != nil {
				t.Fatalf("tar: %v\n%s", err, out)
			}
			dir := filepath.Join(root, ArchiveRoot)
			args := tc.cmd(dir)
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), tc.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
			if trace := strings.ReplaceAll(string(out), filepath.Join(dir, NodeDir)+"/", ""); !strings.Contains(trace, tc.ran) {
				t.Errorf("install.sh did not run %q:\n%s", tc.ran, out)
			}
			node := filepath.Join(dir, "node")
			if !strings.Contains(strings.Join(args, " "), "--dir") {
				node = filepath.Join(dir, NodeDir) // the installer installs beside itself
			}
			checkInstalled(t, node)
		})
	}
}

func writeMeasured(t *testing.T, path string) {
	t.Helper()
	rep := benchmark.Report{Resources: map[resource.Name]*float64{}}
	for _, n := range resource.All {
		v := resource.Default(n, "amd64") * 4
		rep.Resources[n] = &v
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkInstalled checks that dir holds a node's state for the two vessels of
// sample: the vesseldict and a resource file per vessel.
func checkInstalled(t *testing.T, dir string) {
	t.Helper()
	dict, err := os.ReadFile(filepath.Join(dir, "vesseldict"))
	if err != nil {
		t.Fatalf("no state: %v", err)
	}
	for _, want := range []string{"'v1'", "'v2'", "123456789123456789123456789", "'status': 'Fresh'"} {
		if !bytes.Contains(dict, []byte(want)) {
			t.Errorf("vesseldict lacks %s:\n%s", want, dict)
		}
	}
	// The node manager reads it as a Python literal.
	py := `import ast, sys; d = ast.literal_eval(open(sys.argv[1]).read()); assert sorted(d) == ['v1', 'v2'], d; assert d['v1']['userkeys'] == [{'e': 23456789123, 'n': 23456789123456789123456789}], d`
	if out, err := exec.Command("python3", "-c", py, filepath.Join(dir, "vesseldict")).CombinedOutput(); err != nil {
		t.Errorf("python3 reading the vesseldict: %v\n%s", err, out)
	}
	for _, v := range []string{"resource.v1", "resource.v2"} {
		b, err := os.ReadFile(filepath.Join(dir, v))
		if err != nil || !bytes.Contains(b, []byte("resource cpu ")) {
			t.Errorf("%s: %v\n%s", v, err, b)
		}
	}
}

// TestGracefulShutdown cancels the server while a slow client is in the
// middle of a download: the download finishes, and Serve returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	// A program of the size of a real one: the archive is far bigger than
	// the socket buffers on both sides, so it cannot be sent at once.
	base := baseWith(t, LinuxAMD64)
	big := filepath.Join(base, BaseName(LinuxAMD64))
	os.Remove(big)
	if err := os.WriteFile(big, fakeProgram(BaseName(LinuxAMD64), 10<<20), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{BaseDir: base})
	id := create(t, s, sample)
	want := download(t, s, id, LinuxAMD64) // built and cached
	// A small receive buffer keeps most of the archive on the server's side
	// until the client reads it.
	d := net.Dialer{Control: smallRecvBuffer}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	res, err := client.Get(s.url + "/builds/" + id + "/linux-amd64")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(res.Body, head); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	// Shutdown has started when new connections are refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) while a download was in flight", err)
	default:
	}
	if n := s.inFlight.Load(); n != 1 {
		t.Errorf("%d downloads in flight during shutdown, want 1", n)
	}
	rest, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("download cut off during shutdown: %v", err)
	}
	if got := append(head, rest...); !bytes.Equal(got, want) {
		t.Errorf("download during shutdown: %d bytes, want %d identical ones", len(got), len(want))
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestCrashLeftoversAreRemovedAtStart(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, ID([]byte(sample)))
	cache := filepath.Join(data, cacheDir)
	for _, d := range []string{dir, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Temporary files of atomicfile.Write, however fresh: the data
	// directory is locked, so no other server can be writing them.
	leftovers := []string{
		filepath.Join(cache, ".x-linux-amd64-0123456789abcdef.tar.gz.tmp-123"),
		filepath.Join(dir, ".vesselinfo.tmp-456"),
	}
	kept := []string{filepath.Join(dir, "vesselinfo"), filepath.Join(cache, "x-linux-amd64-0123.tar.gz")}
	// Archives where servers before the bounded cache kept them go too.
	leftovers = append(leftovers, filepath.Join(dir, "linux-amd64-0123456789abcdef.tar.gz"), filepath.Join(dir, "windows-amd64-0123456789abcdef.zip"))
	for _, p := range append(leftovers, kept...) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Config{DataDir: data, BaseDir: baseWith(t, LinuxAMD64)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range leftovers {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there", filepath.Base(p))
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed", filepath.Base(p))
		}
	}
}

func TestSecondServerOnOneDataDirectoryIsRefused(t *testing.T) {
	data := t.TempDir()
	s, err := New(Config{DataDir: data, BaseDir: baseWith(t, LinuxAMD64)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{DataDir: data, BaseDir: baseWith(t, LinuxAMD64)})
	if err == nil || !strings.Contains(err.Error(), "in use by another running server") {
		t.Errorf("second server on one directory: %v", err)
	}
	s.Close()
	s2, err := New(Config{DataDir: data, BaseDir: baseWith(t, LinuxAMD64)})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	s2.Close()
}
