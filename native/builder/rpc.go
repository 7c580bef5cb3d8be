package builder

// The XML-RPC API of Seattle's Custom Installer Builder (API version 2.0),
// served at /xmlrpc/ so that Seattle's Clearinghouse and scripts written
// for the original can use this builder unchanged.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

// APIVersion is what api_version returns: the original's API version.
const APIVersion = "2.0"

// Limits of one XML-RPC call.
const (
	// MaxRPCBody is the largest request body: a call naming a hundred
	// users with 4096-bit keys is about 150 kB.
	MaxRPCBody = 1 << 20
	// rpcDrain is how much of a body over MaxRPCBody is read and thrown
	// away so that a client that sends the whole body before reading the
	// answer (Python's xmlrpc.client) reads the fault instead of a reset
	// connection. Beyond it the connection is closed.
	rpcDrain = 8 << 20
	// rpcMaxUsers bounds the names one build may use.
	rpcMaxUsers = 100
	// rpcMaxGenerated bounds the key pairs one call may ask the server to
	// generate: each takes about a second of a core at 2048 bits.
	rpcMaxGenerated = 10
	// userNameMin and userNameMax bound a user name's length, as in the
	// original.
	userNameMin, userNameMax = 3, 40
)

// keygenSlots bounds the key pairs generated at once across all calls, so
// that calls asking for keys cannot take every core from downloads.
var keygenSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))

// generateKey makes a key pair for a user who was given none. A variable so
// that tests and benchmarks can count calls.
var generateKey = func(ctx context.Context) (*seattlekey.Pair, error) {
	select {
	case keygenSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-keygenSlots }()
	return seattlekey.Generate(rand.Reader, seattlekey.DefaultBits)
}

// handleXMLRPC serves /xmlrpc/: POST runs a call, GET describes the API.
// Every answer to a POST is HTTP 200: an XML-RPC client reads anything else
// as a broken server, not as a reason it can show.
func (s *Server) handleXMLRPC(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodGet, http.MethodHead:
		s.rpcHelp(w, r)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		pageError(w, http.StatusMethodNotAllowed, "Method not allowed", "The XML-RPC API takes calls with POST; GET shows what it offers.")
		return
	}
	var out bytes.Buffer
	method, fault := s.rpcCall(r, &out)
	if fault != nil {
		out.Reset()
		encodeFault(&out, fault)
		s.log.Info("xmlrpc fault", "method", method, "code", fault.Code, "fault", fault.String)
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(out.Bytes())
}

// rpcCall reads, runs and encodes one call into out. It never panics out:
// a bug becomes a fault, not a dropped connection.
func (s *Server) rpcCall(r *http.Request, out *bytes.Buffer) (method string, fault *rpcFault) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("xmlrpc: panic", "method", method, "panic", fmt.Sprint(p))
			fault = faultf(FaultInternal, "the server failed on this call; tell its operator")
		}
	}()
	tooLarge := faultf(FaultParse, "the request is larger than the limit of %s", sizeText(MaxRPCBody))
	if r.ContentLength > rpcDrain {
		// Not worth reading: close rather than keep the connection.
		r.Close = true
		return "", tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRPCBody+1))
	if err != nil {
		return "", faultf(FaultParse, "could not read the request: %v", err)
	}
	if len(body) > MaxRPCBody {
		if n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, rpcDrain)); n >= rpcDrain {
			r.Close = true
		}
		return "", tooLarge
	}
	call, err := decodeCall(bytes.NewReader(body))
	if err != nil {
		var f *rpcFault
		errors.As(err, &f)
		return "", f
	}
	method = call.Method
	var result any
	switch call.Method {
	case "api_version":
		if len(call.Params) != 0 {
			return method, wrongArgs("api_version()", 0, 0, len(call.Params))
		}
		result = APIVersion
	case "build_installers":
		if len(call.Params) < 1 || len(call.Params) > 2 {
			return method, wrongArgs("build_installers(vessels[, user_data])", 1, 2, len(call.Params))
		}
		result, fault = s.rpcBuild(r, call.Params)
	case "get_urls":
		if len(call.Params) != 1 {
			return method, wrongArgs("get_urls(build_id)", 1, 1, len(call.Params))
		}
		result, fault = s.rpcURLs(r, call.Params[0])
	default:
		return method, faultf(FaultNoMethod, "there is no method %q: the methods are api_version, build_installers and get_urls", clipText(call.Method))
	}
	if fault != nil {
		return method, fault
	}
	encodeResponse(out, result)
	return method, nil
}

func wrongArgs(sig string, lo, hi, got int) *rpcFault {
	want := strconv.Itoa(lo)
	if hi != lo {
		want = fmt.Sprintf("%d or %d", lo, hi)
	}
	return faultf(FaultInvalidParams, "%s takes %s arguments, not %d", sig, want, got)
}

// rpcVessel is one vessel of a build_installers call.
type rpcVessel struct {
	percent int
	owner   string
	users   []string
}

// rpcBuild is build_installers(vessels, user_data).
func (s *Server) rpcBuild(r *http.Request, params []any) (any, *rpcFault) {
	vessels, fault := s.rpcVessels(params[0])
	if fault != nil {
		return nil, fault
	}
	// Every name, in the order the vessels name them.
	var names []string
	seen := map[string]bool{}
	for _, v := range vessels {
		for _, n := range append([]string{v.owner}, v.users...) {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	if len(names) > rpcMaxUsers {
		return nil, faultf(FaultInvalidParams, "the vessels name %d users; a build may name at most %d", len(names), rpcMaxUsers)
	}
	keys := map[string]string{} // name -> "e n"
	if len(params) == 2 {
		ud, ok := params[1].(rpcStruct)
		if !ok {
			return nil, faultf(FaultInvalidParams, "user_data must be a struct of user names, each {'public_key': 'e n'}, not %s", rpcTypeName(params[1]))
		}
		for _, name := range sortedKeys(ud) {
			if err := checkUserName(name); err != nil {
				return nil, faultf(FaultInvalidParams, "user_data: %v", err)
			}
			if !seen[name] {
				return nil, faultf(FaultInvalidParams, "user_data gives a key for %q, but no vessel names that user", name)
			}
			entry, ok := ud[name].(rpcStruct)
			if !ok {
				return nil, faultf(FaultInvalidParams, "user_data[%q] must be a struct {'public_key': 'e n'}, not %s", name, rpcTypeName(ud[name]))
			}
			for field := range entry {
				if field != "public_key" {
					return nil, faultf(FaultInvalidParams, "user_data[%q] has the field %q; the only field is 'public_key' (a private key is never sent)", name, clipText(field))
				}
			}
			text, ok := entry["public_key"].(string)
			if !ok {
				if _, has := entry["public_key"]; !has {
					return nil, faultf(FaultInvalidParams, "user_data[%q] has no 'public_key'", name)
				}
				return nil, faultf(FaultInvalidParams, "user_data[%q]['public_key'] must be a string \"e n\", not %s", name, rpcTypeName(entry["public_key"]))
			}
			key, err := seattlekey.ParsePublic(text)
			if err != nil {
				return nil, faultf(FaultInvalidParams, "user_data[%q]: %v", name, err)
			}
			keys[name] = key.String()
		}
	}
	// Only calls that would make a build count against the address's rate
	// of new builds, and before the costly part: generating keys.
	if ok, wait := s.limits.build(s.clientAddr(r)); !ok {
		s.limited.Add(1)
		return nil, faultf(FaultLimited, "too many new builds from your address; try again in %d seconds", int(math.Ceil(wait.Seconds())))
	}
	var missing []string
	for _, n := range names {
		if _, ok := keys[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > rpcMaxGenerated {
		return nil, faultf(FaultInvalidParams, "%d users have no public key; the server generates at most %d key pairs per call: give the others a key in user_data", len(missing), rpcMaxGenerated)
	}
	privs, err := s.generateKeys(r.Context(), missing)
	if err != nil {
		s.log.Error("xmlrpc: generate keys", "err", err)
		return nil, faultf(FaultInternal, "the server could not generate key pairs: %v", err)
	}
	for n, p := range privs {
		keys[n] = p.Public.String()
	}

	var vi strings.Builder
	for _, v := range vessels {
		fmt.Fprintf(&vi, "Percent %d\nOwner %s\n", v.percent, keys[v.owner])
		for _, u := range v.users {
			fmt.Fprintf(&vi, "User %s\n", keys[u])
		}
	}
	text, res := s.cfg.Reserve.complete([]byte(vi.String()))
	if !res.Valid {
		// The keys passed seattlekey's checks; the validator's own (such as
		// its bound on digits) still have the last word.
		return nil, faultf(FaultInvalidParams, "the vessels make an invalid vesselinfo: %s", describeKeyError(res.Errors[0].Message, text, res.Errors[0].Line))
	}
	id := ID(text)
	created, err := s.store.Put(r.Context(), id, text)
	if err == nil {
		err = s.store.SetKeys(r.Context(), id, keys)
	}
	if err != nil {
		s.log.Error("xmlrpc: store build", "id", id, "err", err)
		s.unavailable.Add(1)
		return nil, faultf(FaultUnavailable, "the server cannot store builds right now; try again in a minute, and tell its operator if it persists")
	}
	if created {
		s.stored.Add(1)
		s.log.Info("build stored", "id", id, "bytes", len(text), "via", "xmlrpc")
	}
	users := map[string]any{}
	for _, n := range names {
		u := map[string]any{"public_key": keys[n]}
		if p, ok := privs[n]; ok {
			u["private_key"] = p.Private.String()
		}
		users[n] = u
	}
	return map[string]any{
		"build_id":   id,
		"installers": s.rpcLinks(r, id),
		"users":      users,
	}, nil
}

// describeKeyError adds the vesselinfo line an error is on, since the
// caller never saw that text.
func describeKeyError(msg string, text []byte, line int) string {
	lines := strings.Split(string(text), "\n")
	if line >= 1 && line <= len(lines) {
		label, _, _ := strings.Cut(lines[line-1], " ")
		return fmt.Sprintf("%s (line %d, %s)", msg, line, label)
	}
	return msg
}

// rpcVessels checks build_installers' first argument.
func (s *Server) rpcVessels(arg any) ([]rpcVessel, *rpcFault) {
	const shape = "vessels must be a list of structs {'percentage': 60, 'owner': 'alex', 'users': ['bob']}"
	list, ok := arg.([]any)
	if !ok {
		return nil, faultf(FaultInvalidParams, "%s, not %s", shape, rpcTypeName(arg))
	}
	if len(list) == 0 {
		return nil, faultf(FaultInvalidParams, "no vessels: %s", shape)
	}
	var out []rpcVessel
	sum := 0
	for i, item := range list {
		where := fmt.Sprintf("vessel %d", i+1)
		st, ok := item.(rpcStruct)
		if !ok {
			return nil, faultf(FaultInvalidParams, "%s is %s; %s", where, rpcTypeName(item), shape)
		}
		for _, field := range sortedKeys(st) {
			if field != "percentage" && field != "owner" && field != "users" {
				return nil, faultf(FaultInvalidParams, "%s has the field %q; the fields are 'percentage', 'owner' and 'users'", where, clipText(field))
			}
		}
		var v rpcVessel
		switch p := st["percentage"].(type) {
		case int64:
			if p < 1 || p > 100 {
				return nil, faultf(FaultInvalidParams, "%s: percentage %d is not between 1 and 100", where, p)
			}
			if p%10 != 0 {
				return nil, faultf(FaultInvalidParams, "%s: percentage %d is not a multiple of 10 (vessels get resources in tenths of the donation)", where, p)
			}
			v.percent = int(p)
		case nil:
			return nil, faultf(FaultInvalidParams, "%s has no percentage", where)
		default:
			return nil, faultf(FaultInvalidParams, "%s: percentage must be an integer, not %s", where, rpcTypeName(p))
		}
		switch o := st["owner"].(type) {
		case string:
			if err := checkUserName(o); err != nil {
				return nil, faultf(FaultInvalidParams, "%s: owner: %v", where, err)
			}
			v.owner = o
		case nil:
			return nil, faultf(FaultInvalidParams, "%s has no owner: every vessel has exactly one", where)
		default:
			return nil, faultf(FaultInvalidParams, "%s: owner must be a user name (a string), not %s", where, rpcTypeName(o))
		}
		if raw, ok := st["users"]; ok {
			us, ok := raw.([]any)
			if !ok {
				return nil, faultf(FaultInvalidParams, "%s: users must be a list of user names, not %s", where, rpcTypeName(raw))
			}
			dup := map[string]bool{}
			for _, u := range us {
				name, ok := u.(string)
				if !ok {
					return nil, faultf(FaultInvalidParams, "%s: users must be user names (strings), not %s", where, rpcTypeName(u))
				}
				if err := checkUserName(name); err != nil {
					return nil, faultf(FaultInvalidParams, "%s: user: %v", where, err)
				}
				if dup[name] {
					return nil, faultf(FaultInvalidParams, "%s names the user %q twice", where, name)
				}
				dup[name] = true
				v.users = append(v.users, name)
			}
		}
		sum += v.percent
		out = append(out, v)
	}
	if want := s.cfg.Reserve.UserPercent(); sum != want {
		msg := fmt.Sprintf("the percentages add up to %d; they must add up to %d", sum, want)
		if s.cfg.Reserve.Percent > 0 {
			msg += ", because " + s.cfg.Reserve.describe()
		}
		return nil, faultf(FaultInvalidParams, "%s", msg)
	}
	return out, nil
}

// checkUserName applies the original's rule for user names: 3 to 40
// characters of [0-9A-Za-z_], the first a letter or digit.
func checkUserName(n string) error {
	if len(n) < userNameMin || len(n) > userNameMax {
		return fmt.Errorf("the user name %q has %d characters; a user name has %d to %d", clipText(n), len(n), userNameMin, userNameMax)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		letterOrDigit := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if i == 0 && !letterOrDigit {
			return fmt.Errorf("the user name %q starts with %q; it must start with a letter or a digit", n, c)
		}
		if !letterOrDigit && c != '_' {
			return fmt.Errorf("the user name %q holds %q; a user name is letters, digits and _ only", clipText(n), firstRune(n[i:]))
		}
	}
	return nil
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

func sortedKeys(m rpcStruct) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// generateKeys makes a key pair for each name, in parallel up to
// keygenSlots. Private keys live in the returned map only: they are never
// stored or logged.
func (s *Server) generateKeys(ctx context.Context, names []string) (map[string]*seattlekey.Pair, error) {
	if len(names) == 0 {
		return nil, nil
	}
	start := time.Now()
	type result struct {
		name string
		pair *seattlekey.Pair
		err  error
	}
	results := make(chan result, len(names))
	for _, n := range names {
		go func() {
			p, err := generateKey(ctx)
			results <- result{n, p, err}
		}()
	}
	out := make(map[string]*seattlekey.Pair, len(names))
	var errs []error
	for range names {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		out[r.name] = r.pair
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.log.Info("xmlrpc: generated key pairs", "count", len(names), "took", time.Since(start).Round(time.Millisecond))
	return out, nil
}

// rpcURLs is get_urls(build_id).
func (s *Server) rpcURLs(r *http.Request, arg any) (any, *rpcFault) {
	id, ok := arg.(string)
	if !ok {
		return nil, faultf(FaultInvalidParams, "build_id must be a string, not %s", rpcTypeName(arg))
	}
	if !validID(id) {
		return nil, faultf(FaultInvalidParams, "%q is not a build ID: an ID is %d lower-case hexadecimal digits, as build_installers returns", clipText(id), IDLen)
	}
	_, err := s.store.Get(r.Context(), id)
	if errors.Is(err, ErrNoBuild) {
		return nil, faultf(FaultNoBuild, "there is no build with the ID %s", id)
	}
	if err != nil {
		s.log.Error("xmlrpc: get_urls", "id", id, "err", err)
		s.unavailable.Add(1)
		return nil, faultf(FaultUnavailable, "the server cannot read builds right now; try again in a minute")
	}
	return s.rpcLinks(r, id), nil
}

// originalNames maps the original builder's platform names to the build
// a donor with that OS most likely needs, best first.
var originalNames = []struct {
	name string
	best []Platform
}{
	{"linux", []Platform{LinuxAMD64, LinuxARM64}},
	{"mac", []Platform{DarwinARM64, DarwinAMD64}}, // Macs sold since 2020 are Apple silicon
	{"windows", []Platform{WindowsAMD64}},
}

// rpcLinks are a build's absolute download URLs under both the original's
// platform names and ours.
func (s *Server) rpcLinks(r *http.Request, id string) map[string]string {
	base := s.publicURL(r)
	out := map[string]string{}
	for p, path := range s.links(id) {
		out[string(p)] = base + path
	}
	for _, o := range originalNames {
		for _, p := range o.best {
			if u, ok := out[string(p)]; ok {
				out[o.name] = u
				break
			}
		}
	}
	return out
}

// publicURL is the scheme and host the server's links start with:
// Config.PublicURL, or else the address the request was sent to.
func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// rpcHelp is the page a browser gets at /xmlrpc/.
func (s *Server) rpcHelp(w http.ResponseWriter, r *http.Request) {
	base := html.EscapeString(s.publicURL(r))
	reserve := "This server adds no vessel of its own: the vessels add up to 100."
	if s.cfg.Reserve.Percent > 0 {
		reserve = html.EscapeString("On this server, " + s.cfg.Reserve.describe() + ".")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>XML-RPC API · Seattle installer builder</title><link rel="stylesheet" href="/common.css"><link rel="stylesheet" href="/app.css"></head>
<body class="error-page"><main>
<h1>XML-RPC API</h1>
<p>This is the API of Seattle's Custom Installer Builder, version %s, for the Seattle Clearinghouse and scripts. Send calls with POST to <code>%s/xmlrpc/</code>; for example, in Python:</p>
<pre>from xmlrpc.client import ServerProxy
builder = ServerProxy("%s/xmlrpc/")
result = builder.build_installers(
    [{"percentage": %d, "owner": "alex", "users": ["bob"]}],
    {"alex": {"public_key": "65537 2303..."}})
result["installers"]["linux"]   # the URL of the Linux installer</pre>
<ul>
<li><code>api_version()</code> returns <code>"%s"</code>.</li>
<li><code>build_installers(vessels[, user_data])</code> returns <code>{"build_id", "installers": {platform: URL}, "users": {name: {"public_key"[, "private_key"]}}}</code>. Each vessel is <code>{"percentage", "owner", "users"}</code>: percentages are multiples of 10, user names are 3 to 40 letters, digits or _ (starting with a letter or digit). A user given no key in <code>user_data</code> gets a new key pair, whose private key is in this answer only and is never stored. %s</li>
<li><code>get_urls(build_id)</code> returns <code>{platform: URL}</code>.</li>
</ul>
<p>Platforms: <code>linux</code>, <code>mac</code> and <code>windows</code> as in the original, and the precise <code>linux-amd64</code>, <code>darwin-arm64</code>, … beside them. Invalid calls get a fault that says what is wrong.</p>
<p><a href="/">The installer builder's page</a></p></main></body></html>
`, APIVersion, base, base, s.cfg.Reserve.UserPercent(), APIVersion, reserve)
}
