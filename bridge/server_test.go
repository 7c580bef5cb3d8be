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

// page connects as the server's own page, failing the test if refused.
func page(t testing.TB, s *Server, query string) *websocket.Conn {
	t.Helper()
	ws, resp, err := dial(t, s, dialOpts{query: query})
	if err != nil {
		t.Fatalf("the page's own handshake was refused: %v (%s)", err, status(resp))
	}
	return ws
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

func TestSecondPageTakesOver(t *testing.T) {
	s := start(t)
	sendLogs(t, s, "one")
	first := page(t, s, "")
	read(t, first)
	second := page(t, s, "")
	if code := closeCode(t, first); code != CloseElsewhere {
		t.Errorf("the first page was closed with %d, want %d (opened elsewhere)", code, CloseElsewhere)
	}
	if m := read(t, second); m.Seq != 1 || m.Line != "one" {
		t.Errorf("the second page starts with %+v, want the whole history", m)
	}
	sendLogs(t, s, "two")
	if m := read(t, second); m.Seq != 2 {
		t.Errorf("the second page got %+v, want seq 2", m)
	}
	if err := second.WriteMessage(websocket.TextMessage, []byte(`{"type":"cancel"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-s.Incoming():
		if _, ok := got.(*Cancel); !ok {
			t.Errorf("got %T, want the second page's cancel", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the page in control is not heard")
	}
	if !s.Connected() {
		t.Error("no page in control after the takeover")
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
