package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/seattletestbed/seattle-installer/native/builder"
)

func init() {
	program.Register("serve", "serve the page that builds custom installers from a vesselinfo file", runServe)
}

func runServe(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on; the default only answers this machine")
	data := fs.String("data", "_builds", "`directory` of this server's files: the archive cache, and the builds when there is no --db")
	db := fs.String("db", "", "PostgreSQL `URL` (postgres://user:pass@host/db) holding the builds, shared by any number of servers; default: the builds are files in --data")
	dbWait := fs.Duration("db-wait", 30*time.Second, "at start, how long to wait for the database to be reachable")
	cacheMax := sizeFlag(fs, "cache-max", builder.DefaultCacheMax, "bound of the archive cache on disk (`SIZE`: bytes or 500MB, 2GiB...); least recently used archives are removed")
	buildRate := fs.Float64("build-rate", builder.DefaultBuildRate, "new builds per second one address may make after --build-burst (uploads and first downloads of an archive); 429 beyond; 0 or less: no limit")
	buildBurst := fs.Int("build-burst", builder.DefaultBuildBurst, "new builds one address may make at once")
	perAddr := fs.Int("downloads-per-address", builder.DefaultDownloadsPerAddress, "archive downloads one address may have in flight; 429 beyond; 0: no limit")
	maxConns := fs.Int("max-conns", builder.DefaultMaxConns, "open connections at most; more wait to be accepted; 0: no limit")
	stall := fs.Duration("stall", builder.DefaultStall, "drop a download whose client reads nothing for this long")
	realIP := fs.String("real-ip-header", "", "`header` a trusted load balancer sets to the client's address (X-Forwarded-For, X-Real-IP); limits then apply to that address. Leave empty unless every request comes through such a balancer")
	baseDir := fs.String("base", "bin/dist", "`directory` of the base installers, as `make dist` builds them")
	grace := fs.Duration("grace", builder.DefaultGrace, "after SIGTERM or Ctrl-C, how long downloads in flight may take to finish")
	quiet := fs.Bool("quiet", false, "log only warnings and errors, not every request")
	reserve := fs.Int("reserve", 0, "`PERCENT` of every build reserved for a service vessel owned by --reserve-key, added after the user's vessels (Seattle's server: 20); 0 for none")
	reserveKey := fs.String("reserve-key", "", "public key `FILE` (\"e n\") of the reserved vessel's owner, such as seattle-service.publickey")
	publicURL := fs.String("public-url", "", "`URL` (scheme and host) that the XML-RPC API's download links start with; default: the Host each request was sent to")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: seattle-builder serve [--addr 127.0.0.1:8080] [--data DIR] [--base DIR] [--db URL]

Serves the installer builder. An operator opens http://ADDR/, pastes or drops
a vesselinfo file (checked in the browser as it is typed), presses Build and
gets a download link per platform. Donors download and run those installers.

The API, for scripts:
  curl --data-binary @vesselinfo http://ADDR/api/builds
      201 {"id": ID, "installers": {"linux-amd64": "/builds/ID/linux-amd64", ...}}
      422 {"errors": [{"line": N, "message": "..."}]} when the file is invalid
  curl -OJ http://ADDR/builds/ID/linux-amd64

Seattle's XML-RPC API (the Custom Installer Builder's, version 2.0), for the
Seattle Clearinghouse: POST http://ADDR/xmlrpc/ (GET shows how to call it).
  build_installers([{'percentage': 80, 'owner': 'alex', 'users': ['bob']}],
                   {'alex': {'public_key': 'e n'}, 'bob': {'public_key': 'e n'}})
With --reserve 20 --reserve-key seattle-service.publickey, builds behave like
Seattle's own server: the user's vessels add up to 80 and every build gets a
last vessel of 20%% owned by that key.

Build IDs are a hash of the file, and archives are byte-identical for the same
file and base installers. With --db, the builds are in PostgreSQL (the schema
is created and migrated at start) and any number of servers behind a load
balancer answer for any build; without it they are files in --data, for one
machine. Archives are built on first download (GET; HEAD never builds) into
--data/cache, at most --cache-max of them. Platforms whose base installer is
missing from --base are left out. If the database goes down, uploads answer
503 with Retry-After, cached downloads go on, and the server recovers by
itself. SIGTERM stops accepting connections and lets downloads in flight
finish.

Example, two servers on one database:
  seattle-builder serve --addr :8080 --db postgres://builder@db/builder --data /var/cache/builder

Exit status: 0 stopped cleanly, 1 the server failed, 2 usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(e.stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	res := builder.Reserve{Percent: *reserve}
	if *reserveKey != "" {
		key, err := os.ReadFile(*reserveKey)
		if err != nil {
			fmt.Fprintf(e.stderr, "serve: --reserve-key: %v\n", err)
			return exitUsage
		}
		res.Owner = strings.TrimSpace(string(key))
	}
	cfg := builder.Config{
		DataDir: *data, BaseDir: *baseDir, Grace: *grace, Log: log,
		CacheMax: int64(*cacheMax), BuildRate: *buildRate, BuildBurst: *buildBurst,
		DownloadsPerAddress: *perAddr, MaxConns: *maxConns, Stall: *stall, RealIPHeader: *realIP,
		Reserve: res, PublicURL: *publicURL,
	}
	if cfg.BuildRate <= 0 {
		cfg.BuildRate = -1
	}
	if cfg.DownloadsPerAddress <= 0 {
		cfg.DownloadsPerAddress = -1
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = -1
	}
	// Listen first: a bad address is a usage error found before anything
	// connects to a database.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "serve: %v\n", err)
		return exitUsage
	}
	defer ln.Close()
	if *db != "" {
		wctx, cancel := context.WithTimeout(ctx, *dbWait)
		store, err := builder.OpenPostgres(wctx, *db, log)
		cancel()
		if err != nil {
			fmt.Fprintf(e.stderr, "serve: %v\n", err)
			return exitFail
		}
		cfg.Store = store
	}
	srv, err := builder.New(cfg)
	if err != nil {
		if cfg.Store != nil {
			cfg.Store.Close()
		}
		fmt.Fprintf(e.stderr, "serve: %v\n", err)
		return exitUsage
	}
	defer srv.Close()
	ps := srv.Platforms()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = string(p)
	}
	list := strings.Join(names, ", ")
	if len(ps) == 0 {
		list = "no platform"
		fmt.Fprintf(e.stderr, "serve: warning: no base installers in %s, so builds have no downloads; run `make dist`\n", *baseDir)
	}
	// The first line names the address: with --addr 127.0.0.1:0 it is how a
	// script or test learns the port.
	where := *data
	if *db != "" {
		where = "the database"
	}
	fmt.Fprintf(e.stdout, "serving http://%s/ (builds in %s; installers for %s)\n",
		ln.Addr(), where, list)

	// Precompress the base installers while the page is already up, so the
	// first Build does not wait for them.
	go func() {
		start := time.Now()
		if err := srv.Warm(ctx); err != nil {
			log.Error("base installers", "err", err)
			return
		}
		log.Info("all base installers ready", "took", time.Since(start).Round(time.Millisecond))
	}()
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(e.stderr, "serve: %v\n", err)
		return exitFail
	}
	return exitOK
}

// byteSize is a flag.Value for sizes: bytes, or a number with a unit (KB,
// MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in powers of 1024).
type byteSize int64

func sizeFlag(fs *flag.FlagSet, name string, def int64, usage string) *byteSize {
	v := byteSize(def)
	fs.Var(&v, name, usage)
	return &v
}

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("%q is not a size: give bytes or a number with KB, MB, GB, KiB, MiB, GiB", s)
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q: unknown unit %q (use KB, MB, GB, KiB, MiB, GiB)", s, unit)
	}
	v := f * mult
	if v < 1 || v > 1<<62 {
		return 0, fmt.Errorf("%q: out of range", s)
	}
	return int64(v), nil
}
