package builder

import (
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/pgtest"
)

// BenchmarkUploadPostgres is an upload of a new vesselinfo to a server
// whose store is PostgreSQL: validate, hash, one INSERT, answer 201. The
// database runs on this machine too; "durable" keeps its fsync on, as in
// production, so each commit waits for the disk (concurrent commits share a
// flush).
func BenchmarkUploadPostgres(b *testing.B) {
	for _, durable := range []bool{false, true} {
		name := "fsync-off"
		if durable {
			name = "durable"
		}
		b.Run(name, func(b *testing.B) {
			pg := pgtest.StartWith(b, pgtest.Options{Durable: durable})
			s := startServer(b, Config{BaseDir: baseWith(b, Platforms...), Store: openPG(b, pg.NewDatabase())})
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					post(b, s, vesselinfoN(int(n.Add(1))), http.StatusCreated)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
			if got := s.Counters().Stored; got != int64(b.N) {
				b.Fatalf("stored %d of %d uploads", got, b.N)
			}
		})
	}
}

// BenchmarkDownloadOtherServer is the load-balanced case: a build uploaded
// to one server and downloaded from another, which built it from the
// database record on the first request and serves it from its cache after.
// "fileserver" serves the same file with a bare http.FileServer in the same
// run: the ratio of the two is the builder's overhead (limits, logging,
// headers) over the machine's ceiling.
func BenchmarkDownloadOtherServer(b *testing.B) {
	pg := pgtest.Start(b)
	db := pg.NewDatabase()
	base := realBaseWith(b, LinuxAMD64)
	up := startServer(b, Config{BaseDir: base, Store: openPG(b, db)})
	down := startServer(b, Config{BaseDir: base, Store: openPG(b, db)})
	id := post(b, up, sample, http.StatusCreated)
	url := down.url + "/builds/" + id + "/" + string(LinuxAMD64)
	size := get(b, url)
	if c := down.Counters(); c.Built != 1 || c.Stored != 0 {
		b.Fatalf("the other server built %d archives and stored %d builds", c.Built, c.Stored)
	}
	files, _ := filepath.Glob(filepath.Join(down.data, cacheDir, id+"-*"))
	if len(files) != 1 {
		b.Fatalf("cache holds %v", files)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	fsrv := &http.Server{Handler: http.FileServer(http.Dir(filepath.Dir(files[0])))}
	go fsrv.Serve(ln)
	b.Cleanup(func() { fsrv.Close() })
	for _, tc := range []struct{ name, url string }{
		{"builder", url},
		{"fileserver", "http://" + ln.Addr().String() + "/" + filepath.Base(files[0])},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if n := get(b, tc.url); n != size {
				b.Fatalf("%d bytes, want %d", n, size)
			}
			b.SetBytes(size)
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get(b, tc.url)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
