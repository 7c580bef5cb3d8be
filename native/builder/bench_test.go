package builder

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// The benchmarks run the real server and a Go client in one process on
// 127.0.0.1, so both share the machine's cores, as a server on a small
// machine with its clients on the same network would not: the figures are a
// floor. Each reports requests per second (req/s).

// benchClient keeps enough idle connections for every parallel client.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}

func benchServer(b *testing.B, ps ...Platform) *testServer {
	b.Helper()
	return startServer(b, Config{BaseDir: realBaseWith(b, ps...)})
}

// BenchmarkValidationPOST is an upload of a valid vesselinfo that is already
// stored: validate, hash, answer 201 with the links.
func BenchmarkValidationPOST(b *testing.B) {
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"valid", sample, http.StatusCreated},
		{"invalid", "Percent 45\nOwner 5 3\nUser x\n", http.StatusUnprocessableEntity},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := benchServer(b, Platforms...)
			post(b, s, tc.body, tc.status)
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					post(b, s, tc.body, tc.status)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkCachedDownload is a download of an archive built before: the
// file goes from the cache to the socket with sendfile.
func BenchmarkCachedDownload(b *testing.B) {
	for _, p := range []Platform{LinuxAMD64, WindowsAMD64} {
		b.Run(string(p), func(b *testing.B) {
			s := benchServer(b, p)
			id := post(b, s, sample, http.StatusCreated)
			url := s.url + "/builds/" + id + "/" + string(p)
			size := get(b, url)
			b.SetBytes(size)
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get(b, url)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkFirstBuild is what an operator waits for after pressing Build:
// the upload of a new vesselinfo, then the first download of every
// platform's archive at once (the page asks for all of them together). The
// base installers were precompressed when the server started (Warm).
func BenchmarkFirstBuild(b *testing.B) {
	s := benchServer(b, Platforms...)
	if err := s.Warm(context.Background()); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		// A new file each time, so each iteration builds every archive.
		text := strings.Replace(sample, "Owner 3456789123", fmt.Sprintf("Owner %d", 1000+i), 1)
		id := post(b, s, text, http.StatusCreated)
		var wg sync.WaitGroup
		for _, p := range Platforms {
			wg.Add(1)
			go func() { defer wg.Done(); get(b, s.url+"/builds/"+id+"/"+string(p)) }()
		}
		wg.Wait()
	}
	if got := s.Counters().Built; got != int64(i*len(Platforms)) {
		b.Fatalf("built %d archives in %d iterations", got, i)
	}
}

// BenchmarkWarm is the once-per-process cost of precompressing the base
// installers of every platform (serve does it in the background at start).
func BenchmarkWarm(b *testing.B) {
	dir := realBaseWith(b, Platforms...)
	for b.Loop() {
		s, err := New(Config{DataDir: b.TempDir(), BaseDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Warm(context.Background()); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func post(b *testing.B, s *testServer, body string, status int) string {
	res, err := benchClient.Post(s.url+"/api/builds", "text/plain", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != status {
		b.Fatalf("POST: %d %v %s", res.StatusCode, err, out)
	}
	if status != http.StatusCreated {
		return ""
	}
	return string(out[7 : 7+IDLen]) // {"id":"...
}

func get(b *testing.B, url string) int64 {
	res, err := benchClient.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return n
}
