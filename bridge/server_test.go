package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// start runs a real server on loopback with a one-line page, closed when
// the test ends.
func start(t testing.TB) *Server {
	t.Helper()
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "<!doctype html><title>page</title>")
	})
	s, err := New(page)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.reclaimAfter = 200 * time.Millisecond
	return s
}

// dialOpts describe one handshake; the zero value is the server's own page.
type dialOpts struct {
	origin    *string // nil: the page's own origin
	host      string  // "": 127.0.0.1:PORT
	protocols []string
	noSecret  bool
	secret    string // instead of the right one
	query     string
	header    http.Header
}

func str(s string) *string { return &s }

func dial(t testing.TB, s *Server, o dialOpts) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	for k, v := range o.header {
		h[k] = v
	}
	origin := fmt.Sprintf("http://127.0.0.1:%d", s.Port())
	if o.origin != nil {
		origin = *o.origin
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if o.host != "" {
		h.Set("Host", o.host)
	}
	protos := o.protocols
	if protos == nil {
		protos = []string{Subprotocol}
	}
	switch {
	case o.secret != "":
		protos = append(protos, "secret."+o.secret)
	case !o.noSecret:
		protos = append(protos, "secret."+s.Secret())
	}
	d := websocket.Dialer{Subprotocols: protos, HandshakeTimeout: 5 * time.Second}
	u := fmt.Sprintf("ws://127.0.0.1:%d/bridge", s.Port())
	if o.query != "" {
		u += "?" + o.query
	}
	ws, resp, err := d.Dial(u, h)
	if ws != nil {
		t.Cleanup(func() { ws.Close() })
	}
	return ws, resp, err
}

// page connects as the server's own page, failing the test if refused, and
// reads the role it is given first.
func page(t testing.TB, s *Server, query string) *websocket.Conn {
	t.Helper()
	ws, _ := pageRole(t, s, dialOpts{query: query})
	return ws
}

// pageRole connects with o and returns the role message that comes first.
func pageRole(t testing.TB, s *Server, o dialOpts) (*websocket.Conn, wire) {
	t.Helper()
	ws, resp, err := dial(t, s, o)
	if err != nil {
		t.Fatalf("the page's own handshake was refused: %v (%s)", err, status(resp))
	}
	m := read(t, ws)
	if m.Type != "role" {
		t.Fatalf("the first message is %+v, want the page's role", m)
	}
	return ws, m
}

func status(resp *http.Response) string {
	if resp == nil {
		return "no response"
	}
	return resp.Status
}

// wire is any message as it arrives, with the fields the tests look at.
type wire struct {
	Type    string  `json:"type"`
	Seq     uint64  `json:"seq"`
	Line    string  `json:"line"`
	Message string  `json:"message"`
	Version int     `json:"version"`
	Percent float64 `json:"percent"`
	Role    string  `json:"role"`
	Key     string  `json:"key"`
	Note    string  `json:"note"`
	ID      uint64  `json:"id"`
	Secret  string  `json:"secret"`
}

func read(t testing.TB, ws *websocket.Conn) wire {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m wire
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("the host sent %q, not JSON: %v", b, err)
	}
	return m
}

// closeCode reads until the connection ends and returns its close code.
func closeCode(t testing.TB, ws *websocket.Conn) int {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("the connection ended without a close frame: %v", err)
	}
}

func sendLogs(t testing.TB, s *Server, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if err := s.Send(&Log{Line: l}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHandshakeAcceptsItsOwnPage(t *testing.T) {
	s := start(t)
	sendLogs(t, s, "first")
	for _, tc := range []struct {
		name string
		o    dialOpts
	}{
		{"127.0.0.1", dialOpts{}},
		{"localhost", dialOpts{origin: str(fmt.Sprintf("http://localhost:%d", s.Port())), host: fmt.Sprintf("localhost:%d", s.Port())}},
		{"X-Forwarded-Host ignored", dialOpts{header: http.Header{"X-Forwarded-Host": {"evil.example"}}}},
		{"secret offered first", dialOpts{protocols: []string{"secret." + s.Secret(), Subprotocol}, noSecret: true}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			ws, resp, err := dial(t, s, tc.o)
			if err != nil {
				t.Fatalf("refused: %v (%s)", err, status(resp))
			}
			if got := ws.Subprotocol(); got != Subprotocol {
				t.Errorf("subprotocol %q, want %q (and never the secret)", got, Subprotocol)
			}
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); strings.Contains(got, "secret") {
				t.Errorf("the answer echoes the secret: %q", got)
			}
			if m := read(t, ws); m.Type != "role" || m.Seq != 0 {
				t.Errorf("first message %+v, want the role, seq 0", m)
			}
			if m := read(t, ws); m.Type != "log" || m.Seq != 1 || m.Line != "first" {
				t.Errorf("first message %+v, want log seq 1", m)
			}
		})
	}
}

func TestHandshakeRefuses(t *testing.T) {
	s := start(t)
	p := s.Port()
	for _, tc := range []struct {
		name   string
		o      dialOpts
		status int
	}{
		{"foreign origin", dialOpts{origin: str("http://evil.example")}, 403},
		{"foreign origin at our port", dialOpts{origin: str(fmt.Sprintf("http://evil.example:%d", p))}, 403},
		{"origin null", dialOpts{origin: str("null")}, 403},
		{"origin on another loopback port", dialOpts{origin: str(fmt.Sprintf("http://127.0.0.1:%d", p+1))}, 403},
		{"localhost origin on another port", dialOpts{origin: str(fmt.Sprintf("http://localhost:%d", p+1))}, 403},
		{"origin without port", dialOpts{origin: str("http://127.0.0.1")}, 403},
		{"lookalike origin", dialOpts{origin: str(fmt.Sprintf("http://127.0.0.1.evil.example:%d", p))}, 403},
		{"lookalike origin with userinfo", dialOpts{origin: str(fmt.Sprintf("http://127.0.0.1:%d@evil.example", p))}, 403},
		{"origin with a path", dialOpts{origin: str(fmt.Sprintf("http://127.0.0.1:%d/", p))}, 403},
		{"https origin", dialOpts{origin: str(fmt.Sprintf("https://127.0.0.1:%d", p))}, 403},
		{"ws origin", dialOpts{origin: str(fmt.Sprintf("ws://127.0.0.1:%d", p))}, 403},
		{"file origin", dialOpts{origin: str("file://")}, 403},
		{"no origin and no secret", dialOpts{origin: str(""), noSecret: true}, 403},
		{"no origin with the secret", dialOpts{origin: str("")}, 403},
		{"no secret", dialOpts{noSecret: true}, 403},
		{"wrong secret", dialOpts{secret: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 403},
		{"secret prefix", dialOpts{secret: s.Secret()[:16]}, 403},
		{"secret in the query only", dialOpts{noSecret: true, query: "secret=" + s.Secret()}, 403},
		{"secret without the bridge protocol", dialOpts{protocols: []string{"chat"}}, 400},
		{"foreign host", dialOpts{host: fmt.Sprintf("evil.example:%d", p)}, 403},
		{"rebinding host without port", dialOpts{host: "evil.example"}, 403},
		{"loopback host on another port", dialOpts{host: fmt.Sprintf("127.0.0.1:%d", p+1)}, 403},
		{"loopback host without port", dialOpts{host: "127.0.0.1"}, 403},
		{"foreign host with a trusted X-Forwarded-Host", dialOpts{host: "evil.example", header: http.Header{"X-Forwarded-Host": {fmt.Sprintf("127.0.0.1:%d", p)}}}, 403},
		{"since not a number", dialOpts{query: "since=abc"}, 400},
		{"since negative", dialOpts{query: "since=-1"}, 400},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			ws, resp, err := dial(t, s, tc.o)
			if err == nil {
				ws.Close()
				t.Fatal("the handshake succeeded")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("got %s (%v), want HTTP %d", status(resp), err, tc.status)
			}
			checkHeaders(t, resp)
			if s.Connected() {
				t.Error("a refused page counts as connected")
			}
		})
	}
}

// checkHeaders applies the rules every response follows.
func checkHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "'wasm-unsafe-eval'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "'unsafe-eval'") || strings.Contains(csp, "*") {
		t.Errorf("Content-Security-Policy %q allows too much", csp)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", got)
	}
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("CORS header %s: %q", k, resp.Header.Get(k))
		}
	}
}

func TestPagesCheckHostAndCarryHeaders(t *testing.T) {
	s := start(t)
	p := s.Port()
	for _, tc := range []struct {
		name, method, path, host string
		header                   http.Header
		status                   int
	}{
		{"page", "GET", "/", "", nil, 200},
		{"page at localhost", "GET", "/", fmt.Sprintf("localhost:%d", p), nil, 200},
		{"page with a foreign origin gets no CORS", "GET", "/", "", http.Header{"Origin": {"http://evil.example"}}, 200},
		{"missing file", "GET", "/nope.js", "", nil, 404},
		{"page at a foreign host", "GET", "/", fmt.Sprintf("evil.example:%d", p), nil, 403},
		{"page at a rebinding host", "GET", "/", "evil.example", nil, 403},
		{"page at another port", "GET", "/", fmt.Sprintf("127.0.0.1:%d", p+1), nil, 403},
		{"X-Forwarded-Host does not let a foreign host in", "GET", "/", "evil.example", http.Header{"X-Forwarded-Host": {fmt.Sprintf("127.0.0.1:%d", p)}}, 403},
		{"X-Forwarded-Host is not refused either", "GET", "/", "", http.Header{"X-Forwarded-Host": {"evil.example"}}, 200},
		{"bridge as plain GET", "GET", "/bridge", "", nil, 403},
		{"bridge at a foreign host", "GET", "/bridge", "evil.example", nil, 403},
		{"POST to the page", "POST", "/", "", nil, 405},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			req, err := http.NewRequest(tc.method, fmt.Sprintf("http://127.0.0.1:%d%s", p, tc.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 200 && !strings.Contains(string(body), "<title>page</title>") {
				t.Errorf("body %q is not the page", body)
			}
			if tc.status == 403 && strings.Contains(string(body), "<title>") {
				t.Errorf("a refused request got the page: %q", body)
			}
			checkHeaders(t, resp)
		})
	}
}

func TestURLCarriesTheSecretOnlyInTheFragment(t *testing.T) {
	s := start(t)
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || u.Host != fmt.Sprintf("127.0.0.1:%d", s.Port()) || u.Path != "/" || u.RawQuery != "" {
		t.Errorf("URL %q: want http://127.0.0.1:PORT/#SECRET", s.URL())
	}
	if u.Fragment != s.Secret() {
		t.Errorf("fragment %q, want the secret", u.Fragment)
	}
	if len(s.Secret()) < 22 { // 22 base64 characters are 128 bits
		t.Errorf("secret %q is shorter than 128 bits", s.Secret())
	}
	if other := start(t); other.Secret() == s.Secret() {
		t.Error("two servers share a secret")
	}
}

func TestMalformedMessagesGetAnErrorAndTheConnectionStays(t *testing.T) {
	s := start(t)
	sendLogs(t, s, "a", "b")
	ws := page(t, s, "")
	read(t, ws)
	read(t, ws)
	for _, tc := range []struct {
		name, msg, want string
		binary          bool
	}{
		{"not JSON", `{"type": "start", percent: 10}`, "not a JSON object", false},
		{"truncated", `{"type":"start","percent":10`, "not a JSON object", false},
		{"an array", `[1,2]`, "not a JSON object", false},
		{"null", `null`, `no "type"`, false},
		{"no type", `{"percent":10}`, `no "type"`, false},
		{"type not a string", `{"type":7}`, "not a JSON object", false},
		{"unknown type", `{"type":"reboot"}`, `unknown message type "reboot"`, false},
		{"host type from the page", `{"type":"result","ok":true}`, `unknown message type "result"`, false},
		{"long unknown type", `{"type":"` + strings.Repeat("x", 5000) + `"}`, "xxx...", false},
		{"start without percent", `{"type":"start"}`, "must be a number", false},
		{"start with null percent", `{"type":"start","percent":null}`, "must be a number", false},
		{"start with text percent", `{"type":"start","percent":"10"}`, "start:", false},
		{"start with zero", `{"type":"start","percent":0}`, "not in (0, 100]", false},
		{"start with negative", `{"type":"start","percent":-5}`, "not in (0, 100]", false},
		{"start over 100", `{"type":"start","percent":100.5}`, "not in (0, 100]", false},
		{"start with a huge number", `{"type":"start","percent":1e999}`, "start:", false},
		{"answer without id", `{"type":"answer","choice":"continue"}`, "id must be", false},
		{"answer without choice", `{"type":"answer","id":"p1"}`, "choice must be", false},
		{"answer with a huge id", `{"type":"answer","id":"` + strings.Repeat("p", 300) + `","choice":"x"}`, "id must be", false},
		{"binary frame", `{"type":"cancel"}`, "text frames", true},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			kind := websocket.TextMessage
			if tc.binary {
				kind = websocket.BinaryMessage
			}
			if err := ws.WriteMessage(kind, []byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			m := read(t, ws)
			if m.Type != "error" || !strings.Contains(m.Message, tc.want) {
				t.Fatalf("reply %+v, want an error containing %q", m, tc.want)
			}
			if m.Seq != 2 {
				t.Errorf("error seq %d, want 2 (the last message the page has)", m.Seq)
			}
			select {
			case got := <-s.Incoming():
				t.Fatalf("the host received %#v", got)
			default:
			}
		})
	}
	// Still connected, and a good message still arrives.
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"start","percent":25}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-s.Incoming():
		if st, ok := got.(*Start); !ok || st.Percent != 25 {
			t.Fatalf("got %#v, want start 25", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the start after the errors never arrived")
	}
}

func TestPageMessagesArrive(t *testing.T) {
	s := start(t)
	ws := page(t, s, "")
	for _, tc := range []struct {
		msg  string
		want PageMessage
	}{
		{`{"type":"start","percent":10}`, &Start{Percent: 10}},
		{`{"type":"start","percent":100}`, &Start{Percent: 100}},
		{`{"type":"start","percent":0.5,"extra":"ignored"}`, &Start{Percent: 0.5}},
		{`{"type":"answer","id":"p1","choice":"continue"}`, &Answer{ID: "p1", Choice: "continue"}},
		{`{"type":"cancel"}`, &Cancel{}},
	} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(tc.msg)); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-s.Incoming():
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
				t.Errorf("%s arrived as %#v, want %#v", tc.msg, got, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s never arrived", tc.msg)
		}
	}
}

func TestOversizedMessageClosesTheConnection(t *testing.T) {
	s := start(t)
	ws := page(t, s, "")
	// Just under the limit is read (and answered, being unknown).
	under := `{"type":"pad","x":"` + strings.Repeat("x", MaxMessage-40) + `"}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(under)); err != nil {
		t.Fatal(err)
	}
	if m := read(t, ws); m.Type != "error" {
		t.Fatalf("a message under the limit got %+v, want an error reply", m)
	}
	over := `{"type":"start","percent":10,"x":"` + strings.Repeat("x", MaxMessage) + `"}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(over)); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, ws); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want %d (message too big)", code, websocket.CloseMessageTooBig)
	}
	select {
	case got := <-s.Incoming():
		t.Fatalf("the oversized message reached the host: %T", got)
	case <-time.After(100 * time.Millisecond):
	}
	waitFor(t, "the server to forget the connection", func() bool { return !s.Connected() })
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectNothing fails the test if the host receives a page message soon.
func expectNothing(t *testing.T, s *Server, what string) {
	t.Helper()
	select {
	case got := <-s.Incoming():
		t.Fatalf("%s reached the host: %#v", what, got)
	case <-time.After(100 * time.Millisecond):
	}
}

func expectIncoming[T PageMessage](t *testing.T, s *Server, what string) {
	t.Helper()
	select {
	case got := <-s.Incoming():
		if _, ok := got.(T); !ok {
			t.Fatalf("%s: got %#v", what, got)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s never reached the host", what)
	}
}

func send(t testing.TB, ws *websocket.Conn, msg string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// readType reads up to a message of type typ.
func readType(t testing.TB, ws *websocket.Conn, typ string) wire {
	t.Helper()
	for {
		if m := read(t, ws); m.Type == typ {
			return m
		}
	}
}

func TestSecondPageOnlyWatches(t *testing.T) {
	s := start(t)
	sendLogs(t, s, "one")
	first, r1 := pageRole(t, s, dialOpts{})
	if r1.Role != RoleControl || len(r1.Key) < 22 {
		t.Fatalf("the first page's role %+v, want control with a key", r1)
	}
	read(t, first)
	second, r2 := pageRole(t, s, dialOpts{})
	if r2.Role != RoleView || r2.Key != "" || !strings.Contains(r2.Note, "another window") {
		t.Fatalf("the second page's role %+v, want view, no key, and why", r2)
	}
	if m := read(t, second); m.Seq != 1 || m.Line != "one" {
		t.Errorf("the watching page starts with %+v, want the whole history", m)
	}
	sendLogs(t, s, "two")
	for _, ws := range []*websocket.Conn{first, second} {
		if m := read(t, ws); m.Seq != 2 || m.Line != "two" {
			t.Errorf("a page got %+v, want seq 2", m)
		}
	}
	for _, msg := range []string{`{"type":"start","percent":10}`, `{"type":"answer","id":"p1","choice":"continue"}`, `{"type":"cancel"}`} {
		send(t, second, msg)
		if m := read(t, second); m.Type != "error" || !strings.Contains(m.Message, "only watches") {
			t.Errorf("%s from the watching page: reply %+v, want an error", msg, m)
		}
		expectNothing(t, s, msg+" from the watching page")
	}
	// A control key that is not the one given is no key.
	third, r3 := pageRole(t, s, dialOpts{protocols: []string{Subprotocol, "control." + strings.Repeat("A", 32)}})
	if r3.Role != RoleView {
		t.Errorf("a page with a made-up key got %+v", r3)
	}
	send(t, third, `{"type":"cancel"}`)
	expectNothing(t, s, "the made-up key's cancel")
	send(t, first, `{"type":"cancel"}`)
	expectIncoming[*Cancel](t, s, "the cancel of the page in control")
	if !s.Connected() {
		t.Error("no page in control")
	}
}

func TestControlMovesOnlyWithConsent(t *testing.T) {
	s := start(t)
	first := page(t, s, "")
	second := page(t, s, "")

	send(t, second, `{"type":"takeover"}`)
	ask := readType(t, first, "takeover-asked")
	if ask.ID == 0 {
		t.Fatalf("request %+v has no id", ask)
	}
	// The page in control says no: nothing changes.
	send(t, first, fmt.Sprintf(`{"type":"handover","id":%d,"allow":false}`, ask.ID))
	if m := readType(t, second, "role"); m.Role != RoleView || !strings.Contains(m.Note, "said no") {
		t.Errorf("after the refusal the asking page got %+v", m)
	}
	send(t, second, `{"type":"cancel"}`)
	expectNothing(t, s, "the refused page's cancel")

	// Asked again, it says yes: control moves, and only then.
	send(t, second, `{"type":"takeover"}`)
	ask = readType(t, first, "takeover-asked")
	send(t, first, fmt.Sprintf(`{"type":"handover","id":%d,"allow":true}`, ask.ID))
	got := readType(t, second, "role")
	if got.Role != RoleControl || got.Key == "" || !strings.Contains(got.Note, "gave you control") {
		t.Fatalf("after consent the asking page got %+v, want control", got)
	}
	readType(t, first, "takeover-ended")
	if m := readType(t, first, "role"); m.Role != RoleView || m.Key != "" {
		t.Fatalf("after giving control the first page got %+v, want view", m)
	}
	send(t, first, `{"type":"start","percent":10}`)
	expectNothing(t, s, "the former controller's start")
	send(t, second, `{"type":"start","percent":10}`)
	expectIncoming[*Start](t, s, "the new controller's start")
}

func TestTakeoverRefusesHostileForms(t *testing.T) {
	s := start(t)
	first := page(t, s, "")
	second := page(t, s, "")
	third := page(t, s, "")
	for _, tc := range []struct {
		name string
		ws   *websocket.Conn
		msg  string
		want string
	}{
		{"controller asks for control", first, `{"type":"takeover"}`, "already controls"},
		{"watcher hands over", second, `{"type":"handover","id":1,"allow":true}`, "only the window that controls"},
		{"handover nobody asked for", first, `{"type":"handover","id":1,"allow":true}`, "no window is asking"},
		{"handover without allow", first, `{"type":"handover","id":1}`, `"allow" must be`},
		{"handover with text allow", first, `{"type":"handover","id":1,"allow":"yes"}`, "handover:"},
		{"handover without id", first, `{"type":"handover","allow":true}`, `"id" must be`},
		{"handover with negative id", first, `{"type":"handover","id":-1,"allow":true}`, "handover:"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			send(t, tc.ws, tc.msg)
			if m := readType(t, tc.ws, "error"); !strings.Contains(m.Message, tc.want) {
				t.Errorf("reply %+v, want %q", m, tc.want)
			}
		})
	}
	// One request at a time; a handover naming an old request does nothing.
	send(t, second, `{"type":"takeover"}`)
	ask := readType(t, first, "takeover-asked")
	send(t, third, `{"type":"takeover"}`)
	if m := readType(t, third, "error"); !strings.Contains(m.Message, "already asking") {
		t.Errorf("a second request got %+v", m)
	}
	send(t, first, fmt.Sprintf(`{"type":"handover","id":%d,"allow":true}`, ask.ID+1))
	if m := readType(t, first, "error"); !strings.Contains(m.Message, "no window is asking") {
		t.Errorf("a handover with a stale id got %+v", m)
	}
	if m := readType(t, first, "takeover-ended"); m.ID != ask.ID+1 {
		t.Errorf("after a stale handover: %+v, want the end of request %d so the page puts it away", m, ask.ID+1)
	}
	// The asking page leaves: the request ends, and the page in control
	// is told so it can put the question away.
	second.Close()
	if m := readType(t, first, "takeover-ended"); m.ID != ask.ID {
		t.Errorf("takeover-ended %+v, want id %d", m, ask.ID)
	}
	send(t, first, fmt.Sprintf(`{"type":"handover","id":%d,"allow":true}`, ask.ID))
	readType(t, first, "error")
	send(t, third, `{"type":"cancel"}`)
	expectNothing(t, s, "the third page's cancel")
	send(t, first, `{"type":"cancel"}`)
	expectIncoming[*Cancel](t, s, "the controller's cancel")
}

func TestReloadKeepsControl(t *testing.T) {
	t.Run("after_the_old_connection_ended", func(t *testing.T) {
		s := start(t)
		s.reclaimAfter = time.Minute // a slow reload still comes back first
		first, r := pageRole(t, s, dialOpts{})
		first.Close()
		waitFor(t, "the page to be gone", func() bool { return !s.Connected() })
		// Another page arrives first: it watches, control waits for the key.
		other, ro := pageRole(t, s, dialOpts{})
		if ro.Role != RoleView {
			t.Fatalf("a page arriving while control waits for its page got %+v", ro)
		}
		back, rb := pageRole(t, s, dialOpts{protocols: []string{Subprotocol, "control." + r.Key}})
		if rb.Role != RoleControl || rb.Key == r.Key {
			t.Fatalf("the reloaded page got %+v, want control with a new key", rb)
		}
		send(t, other, `{"type":"cancel"}`)
		expectNothing(t, s, "the other page's cancel")
		send(t, back, `{"type":"cancel"}`)
		expectIncoming[*Cancel](t, s, "the reloaded page's cancel")
		// The old key is spent.
		if _, r := pageRole(t, s, dialOpts{protocols: []string{Subprotocol, "control." + r.Key}}); r.Role != RoleView {
			t.Errorf("a spent key got %+v", r)
		}
	})
	t.Run("before_the_old_connection_ended", func(t *testing.T) {
		s := start(t)
		first, r := pageRole(t, s, dialOpts{})
		back, rb := pageRole(t, s, dialOpts{protocols: []string{Subprotocol, "control." + r.Key}})
		if rb.Role != RoleView {
			t.Fatalf("a key holder while its page is still connected got %+v, want view", rb)
		}
		first.Close()
		if m := readType(t, back, "role"); m.Role != RoleControl {
			t.Fatalf("when the old connection ended the reloaded page got %+v", m)
		}
		send(t, back, `{"type":"cancel"}`)
		expectIncoming[*Cancel](t, s, "the reloaded page's cancel")
	})
}

func TestControlPassesWhenItsPageHasGone(t *testing.T) {
	s := start(t)
	first := page(t, s, "")
	second := page(t, s, "")
	third := page(t, s, "")
	send(t, third, `{"type":"takeover"}`) // asks; first never answers
	readType(t, first, "takeover-asked")
	first.Close()
	// After the reservation the page that asked gets control: nobody is
	// left to ask.
	if m := readType(t, third, "role"); m.Role != RoleControl || !strings.Contains(m.Note, "has closed") {
		t.Fatalf("the asking page got %+v", m)
	}
	send(t, second, `{"type":"cancel"}`)
	expectNothing(t, s, "the other watcher's cancel")
	third.Close()
	// Then the oldest watcher.
	if m := readType(t, second, "role"); m.Role != RoleControl {
		t.Fatalf("the last page got %+v", m)
	}
	send(t, second, `{"type":"cancel"}`)
	expectIncoming[*Cancel](t, s, "the last page's cancel")
	second.Close()
	waitFor(t, "nobody in control", func() bool { return !s.Connected() })
	time.Sleep(300 * time.Millisecond) // past the reservation
	if _, r := pageRole(t, s, dialOpts{}); r.Role != RoleControl {
		t.Errorf("a page arriving when nobody is left got %+v, want control", r)
	}
}

func TestLaunchTokenIsSpentOnce(t *testing.T) {
	s := start(t)
	sendLogs(t, s, "one")
	u, err := s.LaunchURL()
	if err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := strings.CutPrefix(pu.Fragment, "launch=")
	if !ok || pu.Host != fmt.Sprintf("127.0.0.1:%d", s.Port()) || pu.Path != "/" || pu.RawQuery != "" || len(tok) < 22 {
		t.Fatalf("launch URL %q: want http://127.0.0.1:PORT/#launch=TOKEN", u)
	}
	if strings.Contains(u, s.Secret()) {
		t.Fatalf("the launch URL %q holds the secret", u)
	}
	launch := dialOpts{protocols: []string{Subprotocol, "launch." + tok}, noSecret: true}
	ws, resp, err := dial(t, s, launch)
	if err != nil {
		t.Fatalf("the launch token was refused: %v (%s)", err, status(resp))
	}
	if m := read(t, ws); m.Type != "session" || m.Secret != s.Secret() || m.Seq != 0 {
		t.Fatalf("first message %+v, want the session's secret", m)
	}
	if m := read(t, ws); m.Type != "role" || m.Role != RoleControl {
		t.Fatalf("then %+v, want control", m)
	}
	if m := read(t, ws); m.Line != "one" {
		t.Fatalf("then %+v, want the history", m)
	}
	for _, tc := range []struct {
		name string
		o    dialOpts
	}{
		{"replayed", launch},
		{"replayed with a wrong secret", dialOpts{protocols: []string{Subprotocol, "launch." + tok}, secret: strings.Repeat("B", 32)}},
		{"made up", dialOpts{protocols: []string{Subprotocol, "launch." + strings.Repeat("A", 32)}, noSecret: true}},
		{"empty", dialOpts{protocols: []string{Subprotocol, "launch."}, noSecret: true}},
		{"the secret as a launch token", dialOpts{protocols: []string{Subprotocol, "launch." + s.Secret()}, noSecret: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := dial(t, s, tc.o)
			if err == nil || resp == nil || resp.StatusCode != 403 {
				t.Fatalf("got %v (%s), want 403", err, status(resp))
			}
		})
	}
	// Still refused after the page that spent it has gone.
	ws.Close()
	waitFor(t, "the page to be gone", func() bool { return !s.Connected() })
	if _, resp, err := dial(t, s, launch); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("a replay after the page left: %v (%s), want 403", err, status(resp))
	}
	// Two tokens are two launches; neither is the other.
	a, _ := s.LaunchURL()
	b, _ := s.LaunchURL()
	if a == b {
		t.Error("two launch URLs are the same")
	}
}

func TestLaunchTokensAreBounded(t *testing.T) {
	s := start(t)
	for range maxLaunchTokens {
		if _, err := s.LaunchURL(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LaunchURL(); err == nil {
		t.Error("launch tokens pile up without bound")
	}
}

func TestFinishDeliversToWatchersToo(t *testing.T) {
	s := start(t)
	first := page(t, s, "")
	second := page(t, s, "")
	s.Send(&Result{OK: true, Message: "installed"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go s.Finish(ctx)
	for _, ws := range []*websocket.Conn{first, second} {
		if m := read(t, ws); m.Type != "result" {
			t.Fatalf("got %+v, want the result", m)
		}
		if code := closeCode(t, ws); code != CloseFinished {
			t.Errorf("close code %d, want %d", code, CloseFinished)
		}
	}
}

func TestResumeAfterReconnect(t *testing.T) {
	s := start(t)
	sendLogs(t, s, "1", "2", "3")
	ws := page(t, s, "")
	var last uint64
	for range 3 {
		last = read(t, ws).Seq
	}
	ws.Close()
	waitFor(t, "the page to be gone", func() bool { return !s.Connected() })
	sendLogs(t, s, "4", "5") // missed while away

	for _, tc := range []struct {
		name  string
		since string
		want  []uint64
	}{
		{"from the last seq", fmt.Sprint(last), []uint64{4, 5}},
		{"from the middle", "1", []uint64{2, 3, 4, 5}},
		{"reload", "0", []uint64{1, 2, 3, 4, 5}},
		{"nothing missed", "5", nil},
		{"from another session", "99", []uint64{1, 2, 3, 4, 5}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			ws := page(t, s, "since="+tc.since)
			for _, want := range tc.want {
				if m := read(t, ws); m.Seq != want || m.Line != fmt.Sprint(want) {
					t.Fatalf("got %+v, want seq %d", m, want)
				}
			}
			sendLogs(t, s, "live")
			if m := read(t, ws); m.Line != "live" {
				t.Fatalf("after the replay got %+v, want the live message", m)
			}
			ws.Close()
			waitFor(t, "the page to be gone", func() bool { return !s.Connected() })
		})
	}
}

func TestSeqIncreasesUnderConcurrentSends(t *testing.T) {
	s := start(t)
	ws := page(t, s, "")
	const senders, each = 8, 200
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				s.Send(&Progress{Phase: "benchmark", Detail: fmt.Sprint(g, i)})
			}
		}()
	}
	for want := uint64(1); want <= senders*each; want++ {
		if m := read(t, ws); m.Seq != want || m.Type != "progress" {
			t.Fatalf("got %+v, want progress seq %d", m, want)
		}
	}
	wg.Wait()
}

func TestFinishDeliversThenStops(t *testing.T) {
	s := start(t)
	ws := page(t, s, "")
	sendLogs(t, s, "done")
	if err := s.Send(&Result{OK: true, Message: "installed"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	finished := make(chan struct{})
	go func() { s.Finish(ctx); close(finished) }()
	if m := read(t, ws); m.Line != "done" {
		t.Fatalf("got %+v", m)
	}
	if m := read(t, ws); m.Type != "result" || m.Message != "installed" {
		t.Fatalf("got %+v, want the result", m)
	}
	if code := closeCode(t, ws); code != CloseFinished {
		t.Errorf("close code %d, want %d (finished)", code, CloseFinished)
	}
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("Finish did not return")
	}
	if _, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", s.Port())); err == nil {
		t.Error("the server still answers after Finish")
	}
}

func TestFinishWithoutAPageStopsAtOnce(t *testing.T) {
	s := start(t)
	s.Send(&Result{OK: false, Message: "cancelled"})
	done := make(chan struct{})
	go func() { s.Finish(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Finish waits for a page that is not there")
	}
}

func TestParsePage(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"start", `{"type":"start","percent":10}`, true},
		{"start fraction", `{"type":"start","percent":0.001}`, true},
		{"empty object", `{}`, false},
		{"empty input", ``, false},
		{"deep nesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), false},
		{"type in other case", `{"type":"START","percent":10}`, false},
		{"cancel with junk", `{"type":"cancel","x":[1,2,3]}`, true},
		{"invalid UTF-8", "{\"type\":\"\xff\"}", false},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			_, err := ParsePage([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Errorf("ParsePage(%.40q) error %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}
