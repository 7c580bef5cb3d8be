package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/internal/pgtest"
)

// fakeBase is a base directory with a stand-in for the linux-amd64 and
// windows-amd64 base installers: bytes that do not compress. The builder
// copies a program into archives without running it.
func fakeBase(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	prog := make([]byte, size)
	rand.NewChaCha8([32]byte{3}).Read(prog)
	for _, name := range []string{"seattle-installer-linux-amd64", "seattle-installer-windows-amd64.exe"} {
		if err := os.WriteFile(filepath.Join(dir, name), prog, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// builderProc is one running seattle-builder serve.
type builderProc struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBuilder runs the real binary's serve on a free port with args, and
// returns once it prints its address. It is killed when the test ends.
func startBuilder(t *testing.T, args ...string) *builderProc {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"serve", "--addr", "127.0.0.1:0", "--quiet"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &builderProc{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve %v: no first line: %v\nstderr: %s", args, err, p.stderr)
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[1], "http://127.0.0.1:") {
		t.Fatalf("first line %q", line)
	}
	p.url = strings.TrimSuffix(f[1], "/")
	go io.Copy(io.Discard, stdout)
	return p
}

var client = &http.Client{Timeout: 30 * time.Second}

// call makes one request and returns status, Retry-After and body; a
// transport error is status -1.
func call(method, url string, body []byte) (int, string, []byte) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return -1, "", []byte(err.Error())
	}
	res, err := client.Do(req)
	if err != nil {
		return -1, "", []byte(err.Error())
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return -1, "", []byte(err.Error())
	}
	return res.StatusCode, res.Header.Get("Retry-After"), b
}

func vesselinfoN(n int) []byte { return []byte(fmt.Sprintf("Percent 100\nOwner 3 %d\n", 1000+n)) }

// upload posts a vesselinfo and returns its ID, failing on anything but 201.
func upload(t *testing.T, b *builderProc, text []byte) string {
	t.Helper()
	code, _, body := call("POST", b.url+"/api/builds", text)
	if code != 201 {
		t.Fatalf("POST to %s: %d %s", b.url, code, body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
		t.Fatalf("POST answer %s: %v", body, err)
	}
	return created.ID
}

// TestThreeBuildersOnOnePostgres is the operator's setup: three servers,
// each with its own disk, on one PostgreSQL database, requests spread
// round-robin. Every upload can be downloaded from every server, with the
// same bytes; the database killed mid-run gives 503s with Retry-After and
// the servers recover by themselves; a builder killed loses nothing.
func TestThreeBuildersOnOnePostgres(t *testing.T) {
	pg := pgtest.Start(t)
	db := pg.NewDatabase()
	base := fakeBase(t, 256<<10)

	// The three start at once on an empty database: all migrate and come up.
	bs := make([]*builderProc, 3)
	var wg sync.WaitGroup
	for i := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bs[i] = startBuilder(t, "--db", db, "--data", t.TempDir(), "--base", base, "--build-rate", "0", "--downloads-per-address", "0")
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Round-robin: upload to one, download from the two others.
	const builds = 30
	ids := make([]string, builds)
	archives := map[string][]byte{}
	for i := range builds {
		ids[i] = upload(t, bs[i%3], vesselinfoN(i))
		for _, p := range []string{"linux-amd64", "windows-amd64"} {
			for _, j := range []int{(i + 1) % 3, (i + 2) % 3} {
				code, _, body := call("GET", bs[j].url+"/builds/"+ids[i]+"/"+p, nil)
				if code != 200 {
					t.Fatalf("build %d uploaded to server %d, %s from server %d: %d %s", i, i%3, p, j, code, body)
				}
				key := ids[i] + p
				if prev, ok := archives[key]; ok && !bytes.Equal(prev, body) {
					t.Fatalf("build %d %s: servers gave different bytes", i, p)
				}
				archives[key] = body
			}
		}
	}

	// The database dies mid-run.
	pg.Kill()
	for j, b := range bs {
		code, retry, body := call("POST", b.url+"/api/builds", vesselinfoN(1000+j))
		if code != 503 || retry == "" {
			t.Errorf("server %d, upload with the database down: %d Retry-After %q %s", j, code, retry, body)
		}
		// What the server has cached still downloads.
		i := j + 2 // uploaded to server (j+2)%3, downloaded from j
		code, _, body = call("GET", b.url+"/builds/"+ids[i]+"/linux-amd64", nil)
		if code != 200 || !bytes.Equal(body, archives[ids[i]+"linux-amd64"]) {
			t.Errorf("server %d, cached download with the database down: %d", j, code)
		}
	}
	pg.Start()
	deadline := time.Now().Add(30 * time.Second)
	for j, b := range bs {
		for {
			code, _, _ := call("POST", b.url+"/api/builds", vesselinfoN(1000+j))
			if code == 201 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server %d: uploads answer %d 30 s after the database came back", j, code)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// One builder dies: the others serve every build, including those only
	// it had seen, and those it had just stored.
	fresh := upload(t, bs[0], vesselinfoN(2000))
	bs[0].cmd.Process.Kill()
	bs[0].cmd.Wait()
	for i, id := range append(ids, fresh) {
		for _, j := range []int{1, 2} {
			if code, _, body := call("GET", bs[j].url+"/builds/"+id+"/windows-amd64", nil); code != 200 {
				t.Fatalf("build %d from server %d after server 0 died: %d %s", i, j, code, body)
			}
		}
	}
	for j := 1; j < 3; j++ {
		if s := bs[j].stderr.String(); strings.Contains(s, "panic") {
			t.Errorf("server %d:\n%s", j, s)
		}
	}
}

// TestOversizedUploadPython: clients that send the whole body before
// reading (Python's urllib) read the 413, at every size, every time.
func TestOversizedUploadPython(t *testing.T) {
	b := startBuilder(t, "--data", t.TempDir(), "--base", fakeBase(t, 1<<10))
	sizes := []int{11 << 20 / 10, 2 << 20, 8 << 20, 64 << 20}
	args := []string{"testdata/post_oversized.py", b.url + "/api/builds", "20"}
	for _, s := range sizes {
		args = append(args, strconv.Itoa(s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "python3", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(sizes) {
		t.Fatalf("python printed:\n%s", out)
	}
	for _, l := range lines {
		var size, got int
		var other string
		if _, err := fmt.Sscan(l, &size, &got, &other); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		t.Logf("%5.1f MiB: %d of 20 read the 413 (%s)", float64(size)/(1<<20), got, other)
		if got != 20 {
			t.Errorf("%d bytes: only %d of 20 tries read the 413; the others: %s", size, got, other)
		}
	}
}

// TestLimitsOfTheBinary: the flags reach the server: --build-rate and
// --build-burst give 429 with Retry-After; --max-conns leaves a connection
// beyond the cap unanswered until one closes.
func TestLimitsOfTheBinary(t *testing.T) {
	b := startBuilder(t, "--data", t.TempDir(), "--base", fakeBase(t, 1<<10),
		"--build-rate", "0.01", "--build-burst", "2", "--max-conns", "3")
	upload(t, b, vesselinfoN(1))
	upload(t, b, vesselinfoN(2))
	code, retry, _ := call("POST", b.url+"/api/builds", vesselinfoN(3))
	if n, _ := strconv.Atoi(retry); code != 429 || n < 1 {
		t.Errorf("third upload: %d Retry-After %q, want 429 with Retry-After", code, retry)
	}

	// The uploads' kept-alive connection would take a slot.
	client.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	host := strings.TrimPrefix(b.url, "http://")
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /api/builds/x HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	got := make(chan int, 1)
	go func() { code, _, _ := call("GET", b.url+"/api/builds/x", nil); got <- code }()
	select {
	case code := <-got:
		t.Fatalf("a fourth connection was answered (%d) with --max-conns 3", code)
	case <-time.After(time.Second):
	}
	conns[0].Close()
	select {
	case code := <-got:
		if code != 404 {
			t.Errorf("fourth connection after one closed: %d, want 404", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fourth connection was not answered after one closed")
	}
}

// TestServeFlagErrors: bad sizes and a database that cannot be reached
// are clear errors with the right exit codes.
func TestServeFlagErrors(t *testing.T) {
	base := fakeBase(t, 1<<10)
	for _, tc := range []struct {
		name string
		args []string
		code int
		in   string
	}{
		{"bad cache size", []string{"serve", "--cache-max", "lots"}, exitUsage, `"lots" is not a size`},
		{"bad unit", []string{"serve", "--cache-max", "2XB"}, exitUsage, "unknown unit"},
		{"database down", []string{"serve", "--data", t.TempDir(), "--base", base, "--addr", "127.0.0.1:0",
			"--db", "postgres://nobody@/x?host=/nonexistent", "--db-wait", "1s"}, exitFail, "database"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := runBinary(t, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.in) {
				t.Errorf("exit %d, want %d; stderr lacks %q?\n%s", r.code, tc.code, tc.in, r.stderr)
			}
		})
	}
}
