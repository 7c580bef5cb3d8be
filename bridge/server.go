package bridge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// writeTimeout bounds one write to a page; a page that stops reading for
// that long is dropped (it may reconnect and resume).
const writeTimeout = 10 * time.Second

// reclaimWindow is how long control stays reserved for the page that had it
// after its connection ends, so a reload (or a dropped connection) gets it
// back with its key before any other page. After that the oldest watching
// page, or the one that asked first, gets it.
const reclaimWindow = 3 * time.Second

// maxLaunchTokens bounds the unspent launch tokens a server keeps.
const maxLaunchTokens = 16

// Server serves the page and the bridge on 127.0.0.1 at a random port.
//
// Every page that connects with the secret (or a launch token) sees the
// whole install, but one page at a time controls it: the first one. The
// others only watch; what they send is refused. Control moves only with
// consent: a watching page asks (Takeover), and the page in control gives
// it (Handover) or keeps it. When the page in control goes, control waits
// reclaimWindow for it to come back (a reload offers its key), then passes
// to a watching page, since nobody is left to ask. Host messages are kept
// for the whole session so any page can resume.
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

	mu           sync.Mutex
	history      [][]byte      // history[i] is the message of seq i+1
	changed      chan struct{} // closed and replaced when history grows
	ctrl         *conn         // the page in control, nil when none
	key          string        // the control key of ctrl, or of the page that just left
	reserved     time.Time     // until then a vacant control waits for key
	reclaim      *time.Timer   // ends the reservation
	reclaimAfter time.Duration // reclaimWindow; shorter in tests
	asking       *conn         // the watching page waiting for consent
	askID        uint64        // the id of its request
	launch       map[string]bool
	joining      int // handshakes accepted, connections not yet registered
	joined       uint64
	conns        map[*conn]bool
	gone         chan struct{} // closed and replaced when a connection joins or ends
	closed       bool
	onPage       func()
	onView       func()
}

// New listens on 127.0.0.1 at a random port and serves page (the donor's
// page and its assets) at / and the bridge at /bridge, until Close.
func New(page http.Handler) (*Server, error) {
	secret, err := token()
	if err != nil {
		return nil, fmt.Errorf("bridge: make the secret: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bridge: listen on 127.0.0.1: %w", err)
	}
	s := &Server{
		ln:           ln,
		secret:       secret,
		port:         ln.Addr().(*net.TCPAddr).Port,
		incoming:     make(chan PageMessage, 16),
		changed:      make(chan struct{}),
		gone:         make(chan struct{}),
		conns:        map[*conn]bool{},
		launch:       map[string]bool{},
		reclaimAfter: reclaimWindow,
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

// token is 192 random bits, base64url without padding (32 characters).
func token() (string, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// URL is the address a page opens: the secret travels only in the fragment,
// which browsers never send to a server nor put in a Referer. It is for the
// donor's own terminal; a launcher (a browser started for the donor, the
// window) gets LaunchURL instead.
func (s *Server) URL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/#%s", s.port, s.secret)
}

// LaunchURL mints a one-time launch token and returns the address that
// holds it (http://127.0.0.1:PORT/#launch=TOKEN). The first page that
// connects with it is given the session's secret over the bridge, and the
// token is spent: a replay is refused, so the address is worth nothing in
// a browser's history or wherever else it may end up.
func (s *Server) LaunchURL() (string, error) {
	t, err := token()
	if err != nil {
		return "", fmt.Errorf("bridge: make a launch token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.launch) >= maxLaunchTokens {
		return "", errors.New("bridge: too many unspent launch tokens")
	}
	s.launch[t] = true
	return fmt.Sprintf("http://127.0.0.1:%d/#launch=%s", s.port, t), nil
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.port }

// Secret is this run's secret, for tests and the launchers.
func (s *Server) Secret() string { return s.secret }

// Incoming delivers the messages of the page in control, in order.
func (s *Server) Incoming() <-chan PageMessage { return s.incoming }

// Send stamps m with its type and the next seq, keeps it for pages that
// resume, and queues it to every page. It never blocks on a page.
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

// OnView sets f to run (on its own goroutine) whenever a page connects that
// only watches, because another page controls the install.
func (s *Server) OnView(f func()) {
	s.mu.Lock()
	s.onView = f
	s.mu.Unlock()
}

// Reply sends an error message to the page in control only, for a message
// it sent that was well formed but came at the wrong time.
func (s *Server) Reply(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctrl != nil {
		s.ctrl.queue(&Error{Message: msg})
	}
}

// Connected reports whether a page is in control now.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctrl != nil
}

// Finish ends the session: it waits until every page has been sent every
// message (or has gone, or ctx ends), closes them with CloseFinished so they
// do not try to reconnect, and stops the server. A page whose handshake was
// answered but which is not registered yet counts: it is waited for.
func (s *Server) Finish(ctx context.Context) {
	for {
		s.mu.Lock()
		delivered := s.joining == 0
		var wrote []chan struct{}
		for c := range s.conns {
			if c.sent != uint64(len(s.history)) {
				delivered = false
				wrote = append(wrote, c.wrote)
			}
		}
		changed, gone := s.changed, s.gone
		s.mu.Unlock()
		if delivered {
			break
		}
		if !waitAny(ctx, changed, gone, wrote) {
			s.Close()
			return
		}
	}
	s.mu.Lock()
	s.closed = true // no page joins from now on
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

// waitAny waits for one of the channels to close, or ctx to end (false).
func waitAny(ctx context.Context, changed, gone chan struct{}, wrote []chan struct{}) bool {
	cases := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(changed)},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(gone)},
	}
	for _, w := range wrote {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w)})
	}
	i, _, _ := reflect.Select(cases)
	return i != 0
}

// waitGone waits for one connection to end and reports whether any remain
// (false too when stop or ctx ends the wait).
func (s *Server) waitGone(ctx context.Context, stop <-chan time.Time) bool {
	s.mu.Lock()
	n, gone := len(s.conns)+s.joining, s.gone
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
	s.closed = true
	if s.http == nil {
		s.mu.Unlock()
		return nil
	}
	for c := range s.conns {
		c.ws.Close()
	}
	if s.reclaim != nil {
		s.reclaim.Stop()
	}
	srv := s.http
	s.http = nil
	s.mu.Unlock()
	return srv.Close()
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

// credentials is what a page offered in its subprotocols.
type credentials struct {
	proto  bool   // the bridge subprotocol
	secret bool   // this run's secret
	launch string // a launch token, spent or not ("" when none)
	key    string // a control key, right or not
}

func offered(r *http.Request, secret string) credentials {
	var c credentials
	for _, p := range websocket.Subprotocols(r) {
		switch {
		case p == Subprotocol:
			c.proto = true
		case strings.HasPrefix(p, "secret."):
			if subtle.ConstantTimeCompare([]byte(p[len("secret."):]), []byte(secret)) == 1 {
				c.secret = true
			}
		case strings.HasPrefix(p, "launch."):
			c.launch = p[len("launch."):]
		case strings.HasPrefix(p, "control."):
			c.key = p[len("control."):]
		}
	}
	return c
}

// spend takes the launch token t if it is unspent. Call with s.mu held.
func (s *Server) spend(t string) bool {
	for k := range s.launch {
		if subtle.ConstantTimeCompare([]byte(k), []byte(t)) == 1 {
			delete(s.launch, k)
			return true
		}
	}
	return false
}

func (s *Server) handleBridge(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r.Header.Get("Origin")) {
		http.Error(w, "forbidden: only the installer's own page may connect", http.StatusForbidden)
		return
	}
	cred := offered(r, s.secret)
	if !cred.secret && cred.launch == "" {
		http.Error(w, "forbidden: missing or wrong secret", http.StatusForbidden)
		return
	}
	if !cred.proto {
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
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "the installer has ended", http.StatusServiceUnavailable)
		return
	}
	launched := false
	if !cred.secret {
		// A launch token is spent here, before the upgrade: a second
		// handshake with it, however close behind, is refused.
		if !s.spend(cred.launch) {
			s.mu.Unlock()
			http.Error(w, "forbidden: this launch address was used already (or never was one); open the address the installer printed", http.StatusForbidden)
			return
		}
		launched = true
	}
	// Finish waits for this handshake: once the page has its answer it
	// counts as connected.
	s.joining++
	s.mu.Unlock()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	s.mu.Lock()
	s.joining--
	if err != nil {
		s.signal()
		s.mu.Unlock()
		return // the upgrader has answered
	}
	ws.SetReadLimit(MaxMessage)
	c := &conn{s: s, ws: ws, key: cred.key, kick: make(chan struct{}, 1), wrote: make(chan struct{}), done: make(chan struct{})}
	if s.closed {
		s.signal()
		s.mu.Unlock()
		ws.Close()
		return
	}
	if since > uint64(len(s.history)) {
		since = 0 // a page from another session: start it over
	}
	c.sent = since
	s.joined++
	c.order = s.joined
	s.conns[c] = true
	if launched {
		c.queue(&Session{Secret: s.secret})
	}
	vacant := s.ctrl == nil && (time.Now().After(s.reserved) || (s.key != "" && cred.key == s.key))
	if vacant {
		s.giveControl(c, "")
	} else {
		c.queue(&Role{Role: RoleView, Note: "This install is open in another window, which controls it. You can watch it here."})
		if f := s.onView; f != nil {
			go f()
		}
	}
	s.signal()
	s.mu.Unlock()

	go c.writeLoop()
	c.readLoop()
}

// signal wakes whoever waits for connections to change. Call with s.mu held.
func (s *Server) signal() {
	close(s.gone)
	s.gone = make(chan struct{})
}

// giveControl makes c the page in control, with a new key, and tells it
// (note says why, "" on connecting). The page that had control, if any, is
// told it now watches. Call with s.mu held.
func (s *Server) giveControl(c *conn, note string) {
	old := s.ctrl
	s.ctrl = c
	if s.reclaim != nil {
		s.reclaim.Stop()
		s.reclaim = nil
	}
	s.reserved = time.Time{}
	key, err := token()
	if err != nil {
		key = "" // no reload shortcut; control itself still works
	}
	s.key = key
	c.key = key
	c.queue(&Role{Role: RoleControl, Key: key, Note: note})
	if s.asking != nil {
		if s.asking != c {
			s.asking.queue(&Role{Role: RoleView, Note: "Another window was given control first."})
		}
		if old != nil && old != c {
			old.queue(&TakeoverEnded{ID: s.askID})
		}
		s.asking = nil
	}
	if old != nil && old != c {
		old.key = ""
		old.queue(&Role{Role: RoleView, Note: "You gave control of the install to another window. You can watch it here."})
	}
	if f := s.onPage; f != nil {
		go f()
	}
}

// lost is called when the page in control has gone: control waits
// reclaimWindow for its key, or passes at once to a watching page that
// holds the key (a reload that connected before the old connection ended).
// Call with s.mu held.
func (s *Server) lost() {
	s.ctrl = nil
	if s.closed {
		return
	}
	for c := range s.conns {
		if s.key != "" && c.key == s.key {
			s.giveControl(c, "")
			return
		}
	}
	s.reserved = time.Now().Add(s.reclaimAfter)
	if s.reclaim != nil {
		s.reclaim.Stop()
	}
	s.reclaim = time.AfterFunc(s.reclaimAfter, s.reclaimed)
}

// reclaimed ends the reservation: if nobody came back, the page that asked
// for control, else the oldest watching page, gets it; nobody is left to
// ask. With no page connected, the next one to connect gets it.
func (s *Server) reclaimed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctrl != nil || s.closed || time.Now().Before(s.reserved) {
		return
	}
	next := s.asking
	for c := range s.conns {
		if next == nil || (next != s.asking && c.order < next.order) {
			next = c
		}
	}
	if next != nil {
		s.giveControl(next, "The window that controlled the install has closed; this window controls it now.")
	}
}

// takeover handles a watching page's request for control.
func (s *Server) takeover(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ctrl == c:
		c.queue(&Error{Message: "this window already controls the install"})
	case s.ctrl == nil:
		// The page in control has just gone: c is served when the
		// reservation ends, unless that page comes back.
		s.asking = c
	case s.asking != nil && s.asking != c:
		c.queue(&Error{Message: "another window is already asking for control; wait for the answer and ask again"})
	default:
		if s.asking == c {
			return // asked already; the question is on the other page
		}
		s.asking = c
		s.askID++
		s.ctrl.queue(&TakeoverAsked{ID: s.askID})
	}
}

// handover handles the answer of the page in control to a request.
func (s *Server) handover(c *conn, h *Handover) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ctrl != c:
		c.queue(&Error{Message: "only the window that controls the install can hand it over"})
	case s.asking == nil || h.ID != s.askID:
		c.queue(&Error{Message: "no window is asking for control now"})
		c.queue(&TakeoverEnded{ID: h.ID})
	case *h.Allow:
		s.giveControl(s.asking, "The other window gave you control of the install.")
	default:
		s.asking.queue(&Role{Role: RoleView, Note: "The window that controls the install said no. You can still watch it here."})
		s.asking = nil
	}
}

// conn is one page's connection. Only writeLoop writes to ws.
type conn struct {
	s     *Server
	ws    *websocket.Conn
	kick  chan struct{} // wakes writeLoop for notes and closing
	done  chan struct{} // closed when readLoop ends
	wrote chan struct{} // closed and replaced after writeLoop wrote history
	order uint64        // the how-manieth connection it is

	// guarded by s.mu
	key       string    // its control key, as offered or given
	sent      uint64    // seq of the last history message written
	notes     []Message // messages to this page only, waiting for writeLoop
	closeCode int       // non-zero: writeLoop closes with it
	closeText string
}

// closeWith asks writeLoop to close the connection. Call with s.mu held.
func (c *conn) closeWith(code int, text string) {
	if c.closeCode == 0 {
		c.closeCode, c.closeText = code, text
	}
	c.wake()
}

// queue sends m to this page only, not kept. Call with s.mu held.
func (c *conn) queue(m Message) {
	c.notes = append(c.notes, m)
	c.wake()
}

func (c *conn) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// reply queues an error reply to this page only.
func (c *conn) reply(msg string) {
	c.s.mu.Lock()
	c.queue(&Error{Message: msg})
	c.s.mu.Unlock()
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
		switch m := m.(type) {
		case *Takeover:
			c.s.takeover(c)
			continue
		case *Handover:
			c.s.handover(c, m)
			continue
		}
		c.s.mu.Lock()
		inControl := c.s.ctrl == c
		c.s.mu.Unlock()
		if !inControl {
			c.reply("this window only watches the install: another window controls it. Ask for control with Take over")
			continue
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
	delete(s.conns, c)
	if s.asking == c {
		s.asking = nil
		if s.ctrl != nil {
			s.ctrl.queue(&TakeoverEnded{ID: s.askID})
		}
	}
	if s.ctrl == c {
		s.lost()
	}
	s.signal()
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
		notes := c.notes
		c.notes = nil
		seq := c.sent
		batch := s.history[c.sent:]
		code, text := c.closeCode, c.closeText
		changed := s.changed
		s.mu.Unlock()

		// Notes first: a page learns its role before the history, and an
		// error reply names the last message the page has.
		for _, m := range notes {
			h := m.header()
			h.Type, h.Seq = m.kind(), seq
			b, err := json.Marshal(m)
			if err != nil || !c.write(b) {
				return
			}
		}
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
		if len(batch) > 0 || len(notes) > 0 {
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
