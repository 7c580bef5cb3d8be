// Package pgtest runs a private PostgreSQL server for tests and benchmarks:
// Debian's postgresql package, a cluster made by initdb in a temporary
// directory, listening only on a Unix socket inside that directory (so no
// port is taken and no other user can connect), stopped and removed when the
// test ends. PostgreSQL refuses to run as root, so as root (CI) the server
// runs as the unprivileged user nobody, which owns the directory.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// nobody is the uid and gid the server runs as when the test runs as root.
const nobody = 65534

// Server is one running PostgreSQL cluster.
type Server struct {
	dir string // owns data/ and the socket
	bin string // the folder of initdb, pg_ctl, postgres
	tb  testing.TB
	dbs atomic.Int64
}

// BinDir finds the programs of Debian's postgresql package (or any initdb on
// PATH), or says how to install them.
func BinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("pgtest: no PostgreSQL server programs (initdb) in /usr/lib/postgresql/*/bin or on PATH: install Debian's postgresql package (make deps does)")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Options change how a cluster runs.
type Options struct {
	// Durable keeps fsync on, as a production database has it: commits
	// wait for the disk. Off by default, which is faster and loses nothing
	// when only the server process dies (the tests kill it that way).
	Durable bool
}

// Start makes a new cluster and starts it; the test's cleanup stops it and
// removes its files. It fails the test when PostgreSQL is not installed:
// the tests that need it are not optional.
func Start(tb testing.TB) *Server { tb.Helper(); return StartWith(tb, Options{}) }

// StartWith is Start with options.
func StartWith(tb testing.TB, opt Options) *Server {
	tb.Helper()
	bin, err := BinDir()
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{dir: dir, bin: bin, tb: tb}
	tb.Cleanup(func() {
		s.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Getuid() == 0 {
		if err := os.Chown(dir, nobody, nobody); err != nil {
			tb.Fatal(err)
		}
	}
	if out, err := s.command("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	// Only the socket in dir, never TCP; no fsync (a test's data need not
	// survive a power cut; commits still reach the OS before they return, so
	// a killed server loses none); enough connections for several servers.
	fsync := "off"
	if opt.Durable {
		fsync = "on"
	}
	conf := fmt.Sprintf("\nlisten_addresses = ''\nunix_socket_directories = '%s'\nfsync = %s\nmax_connections = 300\n", dir, fsync)
	f, err := os.OpenFile(filepath.Join(s.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	s.Start()
	return s
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// command runs one of the server's programs, as nobody when we are root.
func (s *Server) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, prog)
	if os.Getuid() != 0 {
		return exec.Command(path, args...)
	}
	n := strconv.Itoa(nobody)
	return exec.Command("setpriv", append([]string{"--reuid=" + n, "--regid=" + n, "--clear-groups", "--", path}, args...)...)
}

func (s *Server) pgctl(args ...string) ([]byte, error) {
	cmd := s.command("pg_ctl", append([]string{"-D", s.data()}, args...)...)
	return cmd.CombinedOutput()
}

// Start starts the server (again), waiting until it accepts connections.
func (s *Server) Start() {
	s.tb.Helper()
	if out, err := s.pgctl("-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.tb.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Kill stops the server at once, as a crash would: connections are cut,
// nothing is flushed.
func (s *Server) Kill() {
	s.tb.Helper()
	if out, err := s.pgctl("-w", "stop", "-m", "immediate"); err != nil {
		s.tb.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// URL is the connection URL of database name on this server.
func (s *Server) URL(name string) string {
	return "postgres://postgres@/" + url.PathEscape(name) + "?host=" + url.QueryEscape(s.dir) + "&sslmode=disable"
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase() string {
	s.tb.Helper()
	name := fmt.Sprintf("test%d", s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		s.tb.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		s.tb.Fatalf("create database: %v", err)
	}
	return s.URL(name)
}

// Log returns the server's log so far, for a failing test to show.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	return strings.TrimSpace(string(b))
}
