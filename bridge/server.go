package bridge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// writeTimeout bounds one write to a page; a page that stops reading for
// that long is dropped (it may reconnect and resume).
const writeTimeout = 10 * time.Second

// Server serves the page and the bridge on 127.0.0.1 at a random port. One
// page at a time controls the install: a newer connection takes over and the
// older one is closed with CloseElsewhere. Host messages are kept for the
// whole session so any page can resume.
type Server struct {
	ln       net.Listener
	http     *http.Server
	secret   string
	port     int
	hosts    []string // allowed Host headers
	origins  []string // allowed Origin headers
	csp      string
	upgrader websocket.Upgrader
	incoming chan PageMessage

	mu      sync.Mutex
	history [][]byte      // history[i] is the message of seq i+1
	changed chan struct{} // closed and replaced when history grows
	ctrl    *conn         // the page in control, nil when none
	conns   map[*conn]bool
	gone    chan struct{} // closed and replaced when a connection ends
	closed  bool
	onPage  func()
}

// New listens on 127.0.0.1 at a random port and serves page (the donor's
// page and its assets) at / and the bridge at /bridge, until Close.
func New(page http.Handler) (*Server, error) {
	var raw [24]byte // 192 bits
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("bridge: make the secret: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bridge: listen on 127.0.0.1: %w", err)
	}
	s := &Server{
		ln:       ln,
		secret:   base64.RawURLEncoding.EncodeToString(raw[:]),
		port:     ln.Addr().(*net.TCPAddr).Port,
		incoming: make(chan PageMessage, 16),
		changed:  make(chan struct{}),
		gone:     make(chan struct{}),
		conns:    map[*conn]bool{},
	}
	p := strconv.Itoa(s.port)
	s.hosts = []string{"127.0.0.1:" + p, "localhost:" + p}
	s.origins = []string{"http://127.0.0.1:" + p, "http://localhost:" + p}
	s.csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
		"connect-src 'self' ws://127.0.0.1:" + p + " ws://localhost:" + p + "; " +
		"img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'none'; frame-ancestors 'none'"
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		Subprotocols:     []string{Subprotocol},
		// Checked before the upgrade, in handleBridge, with the secret.
		CheckOrigin: func(r *http.Request) bool { return s.originAllowed(r.Header.Get("Origin")) },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, reason.Error(), status)
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/bridge", s.handleBridge)
	mux.Handle("/", page)
	s.http = &http.Server{
		Handler:           s.guard(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	go s.http.Serve(ln)
	return s, nil
}

// URL is the address a page opens: the secret travels only in the fragment,
// which browsers never send to a server nor put in a Referer.
func (s *Server) URL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/#%s", s.port, s.secret)
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.port }

// Secret is this run's secret, for tests and the launchers.
func (s *Server) Secret() string { return s.secret }

// Incoming delivers the messages of the page in control, in order.
func (s *Server) Incoming() <-chan PageMessage { return s.incoming }

// Send stamps m with its type and the next seq, keeps it for pages that
// resume, and queues it to the page in control. It never blocks on a page.
func (s *Server) Send(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := m.header()
	h.Type = m.kind()
	h.Seq = uint64(len(s.history)) + 1
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("bridge: encode %s: %w", h.Type, err)
	}
	s.history = append(s.history, b)
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

// OnPage sets f to run (on its own goroutine) whenever a page takes
// control, so a launcher can tell the donor the page is there.
func (s *Server) OnPage(f func()) {
	s.mu.Lock()
	s.onPage = f
	s.mu.Unlock()
}

// Reply sends an error message to the page in control only, for a message
// it sent that was well formed but came at the wrong time.
func (s *Server) Reply(msg string) {
	s.mu.Lock()
	c := s.ctrl
	s.mu.Unlock()
	if c != nil {
		c.reply(msg)
	}
}

// Connected reports whether a page is in control now.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctrl != nil
}

// Finish ends the session: it waits until the page in control has been
// sent every message (or has gone, or ctx ends), closes it with
// CloseFinished so it does not try to reconnect, and stops the server.
func (s *Server) Finish(ctx context.Context) {
	for {
		s.mu.Lock()
		c := s.ctrl
		delivered := c == nil || c.sent == uint64(len(s.history))
		changed, gone := s.changed, s.gone
		var wrote chan struct{}
		if c != nil {
			wrote = c.wrote
		}
		s.mu.Unlock()
		if delivered {
			break
		}
		select {
		case <-ctx.Done():
			s.Close()
			return
		case <-changed:
		case <-gone:
		case <-wrote:
		}
	}
	s.mu.Lock()
	for c := range s.conns {
		c.closeWith(CloseFinished, "the installer has ended")
	}
	s.mu.Unlock()
	// Let the writers send their close frames before the sockets go.
	deadline := time.NewTimer(2 * time.Second)
	defer deadline.Stop()
	for s.waitGone(ctx, deadline.C) {
	}
	s.Close()
}

// waitGone waits for one connection to end and reports whether any remain
// (false too when stop or ctx ends the wait).
func (s *Server) waitGone(ctx context.Context, stop <-chan time.Time) bool {
	s.mu.Lock()
	n, gone := len(s.conns), s.gone
	s.mu.Unlock()
	if n == 0 {
		return false
	}
	select {
	case <-gone:
		return true
	case <-stop:
	case <-ctx.Done():
	}
	return false
}

// Close stops the server at once and drops every page.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.ws.Close()
	}
	s.mu.Unlock()
	return s.http.Close()
}

// guard refuses any request whose Host is not this server as the page knows
// it (DNS rebinding: a foreign site whose name resolves to 127.0.0.1 sends
// its own name), and sets the headers every response carries.
// X-Forwarded-Host is never consulted: nothing proxies to this server.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if !s.hostAllowed(r.Host) {
			http.Error(w, "forbidden: this server answers only to 127.0.0.1 and localhost at its own port", http.StatusForbidden)
			return
		}
		if r.URL.Path != "/bridge" && r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) hostAllowed(host string) bool {
	for _, h := range s.hosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// originAllowed is an exact comparison: scheme, name and port. Lookalikes
// (http://127.0.0.1.evil.example:PORT), https, other ports, "null" and a
// missing Origin all fail.
func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.origins {
		if origin == o {
			return true
		}
	}
	return false
}

// secretOffered reports whether the page offered the bridge subprotocol and
// this run's secret among its subprotocols.
func (s *Server) secretOffered(r *http.Request) (proto, secret bool) {
	for _, p := range websocket.Subprotocols(r) {
		if p == Subprotocol {
			proto = true
		}
		if v, ok := strings.CutPrefix(p, "secret."); ok &&
			subtle.ConstantTimeCompare([]byte(v), []byte(s.secret)) == 1 {
			secret = true
		}
	}
	return proto, secret
}

func (s *Server) handleBridge(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r.Header.Get("Origin")) {
		http.Error(w, "forbidden: only the installer's own page may connect", http.StatusForbidden)
		return
	}
	proto, secret := s.secretOffered(r)
	if !secret {
		http.Error(w, "forbidden: missing or wrong secret", http.StatusForbidden)
		return
	}
	if !proto {
		http.Error(w, "bad request: offer the subprotocol "+Subprotocol, http.StatusBadRequest)
		return
	}
	var since uint64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			http.Error(w, "bad request: since must be the last seq received, a whole number", http.StatusBadRequest)
			return
		}
		since = n
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(MaxMessage)
	c := &conn{s: s, ws: ws, kick: make(chan struct{}, 1), wrote: make(chan struct{}), done: make(chan struct{})}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	if since > uint64(len(s.history)) {
		since = 0 // a page from another session: start it over
	}
	c.sent = since
	if old := s.ctrl; old != nil {
		old.closeWith(CloseElsewhere, "the installer was opened in another window")
	}
	s.ctrl = c
	s.conns[c] = true
	onPage := s.onPage
	s.mu.Unlock()
	if onPage != nil {
		go onPage()
	}

	go c.writeLoop()
	c.readLoop()
}

// conn is one page's connection. Only writeLoop writes to ws.
type conn struct {
	s     *Server
	ws    *websocket.Conn
	kick  chan struct{} // wakes writeLoop for replies and closing
	done  chan struct{} // closed when readLoop ends
	wrote chan struct{} // closed and replaced after writeLoop wrote history

	// guarded by s.mu
	sent      uint64   // seq of the last history message written
	replies   []string // error replies waiting for writeLoop
	closeCode int      // non-zero: writeLoop closes with it
	closeText string
}

// closeWith asks writeLoop to close the connection. Call with s.mu held.
func (c *conn) closeWith(code int, text string) {
	if c.closeCode == 0 {
		c.closeCode, c.closeText = code, text
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// reply queues an error reply to this page only.
func (c *conn) reply(msg string) {
	c.s.mu.Lock()
	c.replies = append(c.replies, msg)
	c.s.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *conn) readLoop() {
	defer c.end()
	for {
		kind, b, err := c.ws.ReadMessage()
		if err != nil {
			// Closed by the page, by the server, or over MaxMessage (the
			// library has then sent close 1009).
			return
		}
		if kind != websocket.TextMessage {
			c.reply("send messages as text frames of JSON")
			continue
		}
		m, err := ParsePage(b)
		if err != nil {
			c.reply(err.Error())
			continue
		}
		c.s.mu.Lock()
		inControl := c.s.ctrl == c
		c.s.mu.Unlock()
		if !inControl {
			continue // taken over; its close frame is on the way
		}
		select {
		case c.s.incoming <- m:
		case <-time.After(writeTimeout):
			c.reply("the installer is busy; send that again")
		}
	}
}

// end forgets the connection once its reader has stopped.
func (c *conn) end() {
	close(c.done)
	s := c.s
	s.mu.Lock()
	if s.ctrl == c {
		s.ctrl = nil
	}
	delete(s.conns, c)
	close(s.gone)
	s.gone = make(chan struct{})
	s.mu.Unlock()
	// Lingering close: read what the page still sends (the rest of an
	// oversized message) for a moment, so closing does not reset the
	// connection and destroy the close frame that says why.
	raw := c.ws.NetConn()
	raw.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	io.Copy(io.Discard, io.LimitReader(raw, 4<<20))
	c.ws.Close()
}

func (c *conn) writeLoop() {
	defer c.ws.Close() // unblocks readLoop when a write fails
	s := c.s
	for {
		s.mu.Lock()
		batch := s.history[c.sent:]
		replies := c.replies
		c.replies = nil
		code, text := c.closeCode, c.closeText
		changed := s.changed
		s.mu.Unlock()

		for i, b := range batch {
			if !c.write(b) {
				return
			}
			s.mu.Lock()
			c.sent++
			if i == len(batch)-1 {
				close(c.wrote)
				c.wrote = make(chan struct{})
			}
			s.mu.Unlock()
		}
		for _, msg := range replies {
			s.mu.Lock()
			seq := c.sent
			s.mu.Unlock()
			b, _ := json.Marshal(&Error{Header{"error", seq}, msg})
			if !c.write(b) {
				return
			}
		}
		if code != 0 {
			c.ws.SetWriteDeadline(time.Now().Add(time.Second))
			c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, text))
			// Give the page a moment to answer the close, then hang up.
			select {
			case <-c.done:
			case <-time.After(time.Second):
			}
			return
		}
		if len(batch) > 0 || len(replies) > 0 {
			continue
		}
		select {
		case <-changed:
		case <-c.kick:
		case <-c.done:
			return
		}
	}
}

func (c *conn) write(b []byte) bool {
	c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, b) == nil
}
