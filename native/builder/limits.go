package builder

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of the per-address limits.
const (
	// DefaultBuildRate and DefaultBuildBurst: an address may make 20 new
	// builds (uploads or first downloads of an archive) at once, then one
	// every two seconds: an operator's session is never slowed, while a
	// script that builds without end gets 1,800 an hour instead of 50,000.
	DefaultBuildRate  = 0.5
	DefaultBuildBurst = 20
	// DefaultDownloadsPerAddress is how many archives one address may be
	// downloading at once.
	DefaultDownloadsPerAddress = 8
	// DefaultMaxConns bounds open connections, far below a default file
	// descriptor limit, so that a flood of connections cannot exhaust them.
	DefaultMaxConns = 1024
	// DefaultStall is how long a download may make no progress before the
	// client is dropped.
	DefaultStall = 30 * time.Second
)

// limiters keeps a token bucket and a count of downloads in flight per
// client address. Addresses idle for a while are forgotten, so the table
// stays small whatever the number of addresses a client can use; IPv6
// addresses count per /64, the block one machine usually holds.
type limiters struct {
	rate      rate.Limit
	burst     int
	downloads int

	mu    sync.Mutex
	addrs map[netip.Prefix]*addrState
	swept time.Time
}

type addrState struct {
	builds    *rate.Limiter
	inFlight  int
	lastTouch time.Time
}

// idleForget is how long an address is kept after its last request.
const idleForget = 10 * time.Minute

func newLimiters(perSecond float64, burst, downloads int) *limiters {
	l := rate.Limit(perSecond)
	if perSecond <= 0 {
		l = rate.Inf
	}
	if burst <= 0 {
		burst = 1
	}
	return &limiters{rate: l, burst: burst, downloads: downloads, addrs: map[netip.Prefix]*addrState{}}
}

// key is the limited unit of an address: the address, or its /64 for IPv6.
func key(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := addr.BitLen()
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p
}

// state returns addr's entry, creating it. l.mu is held.
func (l *limiters) state(addr netip.Addr, now time.Time) *addrState {
	if now.Sub(l.swept) > idleForget {
		for k, st := range l.addrs {
			if st.inFlight == 0 && now.Sub(st.lastTouch) > idleForget {
				delete(l.addrs, k)
			}
		}
		l.swept = now
	}
	k := key(addr)
	st, ok := l.addrs[k]
	if !ok {
		st = &addrState{builds: rate.NewLimiter(l.rate, l.burst)}
		l.addrs[k] = st
	}
	st.lastTouch = now
	return st
}

// build takes a token for a new build from addr's bucket. When there is
// none it returns false and how long until there is.
func (l *limiters) build(addr netip.Addr) (ok bool, retry time.Duration) {
	if l.rate == rate.Inf {
		return true, 0
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.state(addr, now).builds.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// download counts a download by addr in; it returns false when addr has as
// many in flight as allowed. done must be called once the download ends.
func (l *limiters) download(addr netip.Addr) (done func(), ok bool) {
	if l.downloads <= 0 {
		return func() {}, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state(addr, time.Now())
	if st.inFlight >= l.downloads {
		return nil, false
	}
	st.inFlight++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			st.inFlight--
			st.lastTouch = time.Now()
			l.mu.Unlock()
		})
	}, true
}

// clientAddr is the address a request is limited by: the peer's, or, when
// the operator named the header a trusted load balancer sets (RealIPHeader),
// the last address in it, which is the one that balancer saw.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	if h := s.cfg.RealIPHeader; h != "" {
		if v := r.Header.Values(h); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a
}

// retryAfter sets Retry-After to d, rounded up to whole seconds, at least 1.
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
}
