package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Config says where a Server keeps builds and finds base installers, and
// bounds what clients may make it do. Zero values mean the defaults.
type Config struct {
	DataDir string        // this server's files: cache/ (archives) and, without Store, the builds; created when missing
	BaseDir string        // base installers, named as BaseName says
	Store   Store         // where build records live; nil means a DirStore in DataDir
	MaxBody int64         // largest vesselinfo upload; 0 means DefaultMaxBody
	Grace   time.Duration // how long downloads in flight may finish after shutdown starts; 0 means DefaultGrace
	Log     *slog.Logger  // nil logs nothing

	CacheMax            int64         // bytes of archives kept on disk; 0 means DefaultCacheMax
	BuildRate           float64       // new builds per second per address; 0 means DefaultBuildRate, < 0 no limit
	BuildBurst          int           // new builds an address may make at once; 0 means DefaultBuildBurst
	DownloadsPerAddress int           // archive downloads in flight per address; 0 means the default, < 0 no limit
	MaxConns            int           // open connections; 0 means DefaultMaxConns, < 0 no limit
	Stall               time.Duration // a download making no progress this long is dropped; 0 means DefaultStall
	RealIPHeader        string        // header a trusted load balancer puts the client's address in; "" uses the peer address

	// Reserve is the vessel added to every build (none when zero).
	Reserve Reserve
	// PublicURL is the scheme and host the XML-RPC API's links start with,
	// such as https://builder.example.org; empty means the request's Host.
	PublicURL string
}

// Defaults of Config.
const (
	DefaultMaxBody = 1 << 20
	DefaultGrace   = 2 * time.Minute
)

// Timeouts of the HTTP server. Downloads get more time to write, in
// proportion to their size (see minDownloadRate).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second // a 1 MiB upload at 35 KB/s
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// minDownloadRate is the slowest client a download waits for in all:
	// an archive of 10 MB gets 30 s plus 10 minutes. A client that stops
	// reading is dropped much sooner, after Config.Stall.
	minDownloadRate = 16 << 10 // bytes per second
)

// Server serves the upload page, the API and the archives.
type Server struct {
	cfg     Config
	log     *slog.Logger
	recipes map[Platform]*lazyRecipe
	static  map[string]*staticFile
	store   Store
	cache   *cache
	limits  *limiters
	flight  singleflight.Group
	lock    *os.File // held while the server lives: the data directory is ours
	touched touchedSet

	// readHeaderTimeout is readHeaderTimeout, a field so that a test can
	// shorten it.
	readHeaderTimeout time.Duration

	requests, posts, stored, built, downloads atomic.Int64
	inFlight                                  atomic.Int64 // archive responses being written
	limited, unavailable                      atomic.Int64 // 429s and 503s
}

// lazyRecipe is a platform's recipe, made on first use (or by Warm).
type lazyRecipe struct {
	base base
	once sync.Once
	r    *recipe
	err  error
}

func (l *lazyRecipe) get() (*recipe, error) {
	l.once.Do(func() { l.r, l.err = newRecipe(l.base) })
	return l.r, l.err
}

// Counters are what a Server has done since it started.
type Counters struct {
	Requests  int64 // HTTP requests of any kind
	Posts     int64 // POST /api/builds, valid or not
	Stored    int64 // builds stored that were not stored before
	Built     int64 // archives built (not served from the cache)
	Downloads int64 // archive responses
	Limited   int64 // answered 429: over a per-address limit
	Unavail   int64 // answered 503: the store or the disk failed
	Cached    int   // archives in the cache now
	CacheSize int64 // their bytes
}

// Counters returns a snapshot of the counters.
func (s *Server) Counters() Counters {
	c := Counters{
		Requests:  s.requests.Load(),
		Posts:     s.posts.Load(),
		Stored:    s.stored.Load(),
		Built:     s.built.Load(),
		Downloads: s.downloads.Load(),
		Limited:   s.limited.Load(),
		Unavail:   s.unavailable.Load(),
	}
	c.Cached, c.CacheSize = s.cache.stats()
	return c
}

// New checks the configuration, creates and locks the data directory,
// removes what a crash left in it and finds the base installers. Platforms
// without one are left out of every list of links. Close releases what it
// took.
func New(cfg Config) (_ *Server, err error) {
	if cfg.DataDir == "" {
		return nil, errors.New("builder: no data directory")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.CacheMax <= 0 {
		cfg.CacheMax = DefaultCacheMax
	}
	if cfg.BuildRate == 0 {
		cfg.BuildRate = DefaultBuildRate
	}
	if cfg.BuildBurst <= 0 {
		cfg.BuildBurst = DefaultBuildBurst
	}
	if cfg.DownloadsPerAddress == 0 {
		cfg.DownloadsPerAddress = DefaultDownloadsPerAddress
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.Stall <= 0 {
		cfg.Stall = DefaultStall
	}
	cfg.Reserve = cfg.Reserve.normalized()
	if err := cfg.Reserve.check(); err != nil {
		return nil, err
	}
	if err := checkPublicURL(cfg.PublicURL); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	bases, err := findBases(cfg.BaseDir)
	if err != nil {
		return nil, err
	}
	static, err := loadStatic()
	if err != nil {
		return nil, err
	}
	if err := cfg.Reserve.tellPage(static); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	leftovers := removeCrashLeftovers(cfg.DataDir)
	if n, size := removeOldArchives(cfg.DataDir); n > 0 {
		log.Info("removed archives of the old layout (now in cache/, bounded)", "files", n, "bytes", size)
	}
	store := cfg.Store
	if store == nil {
		if store, err = NewDirStore(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	cache, n, err := openCache(filepath.Join(cfg.DataDir, cacheDir), cfg.CacheMax)
	if err != nil {
		return nil, err
	}
	if leftovers += n; leftovers > 0 {
		log.Info("removed temporary files left by a crash", "files", leftovers)
	}
	s := &Server{
		cfg: cfg, log: log, recipes: map[Platform]*lazyRecipe{}, static: static,
		store: store, cache: cache, lock: lock,
		limits:            newLimiters(cfg.BuildRate, cfg.BuildBurst, cfg.DownloadsPerAddress),
		readHeaderTimeout: readHeaderTimeout,
	}
	for _, b := range bases {
		s.recipes[b.platform] = &lazyRecipe{base: b}
	}
	return s, nil
}

// cacheDir is the archive cache's folder in the data directory. It cannot
// be mistaken for a build folder, whose name is an ID.
const cacheDir = "cache"

// Close releases the data directory and the store. Serve must have
// returned.
func (s *Server) Close() {
	s.store.Close()
	s.lock.Close()
}

// Platforms returns the platforms this server has base installers for, in
// the order of the package's Platforms.
func (s *Server) Platforms() []Platform {
	var ps []Platform
	for _, p := range Platforms {
		if _, ok := s.recipes[p]; ok {
			ps = append(ps, p)
		}
	}
	return ps
}

// Warm precompresses the base installers of every platform now, rather than
// on each platform's first download, using every core. It returns the first
// error, having tried every platform.
func (s *Server) Warm(ctx context.Context) error {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	errs := make([]error, len(Platforms))
	var wg sync.WaitGroup
	for i, p := range s.Platforms() {
		l := s.recipes[p]
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			start := time.Now()
			r, err := l.get()
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", p, err)
				return
			}
			s.log.Info("base installer ready", "platform", p, "webview", r.webview,
				"compressed", r.size, "took", time.Since(start).Round(time.Millisecond))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Serve serves on ln until ctx is cancelled, then stops accepting, lets
// requests in flight (downloads included) finish for up to Config.Grace,
// and returns. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.cfg.MaxConns > 0 {
		// Beyond the cap, connections wait in the kernel's backlog rather
		// than each taking a file descriptor and a goroutine.
		ln = newLimitListener(ln, s.cfg.MaxConns)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: no new connections; waiting for requests in flight",
		"downloads", s.inFlight.Load(), "grace", s.cfg.Grace)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc // http.ErrServerClosed
	if err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: downloads still running after %v were cut off: %w", s.cfg.Grace, err)
	}
	s.log.Info("stopped")
	return nil
}
