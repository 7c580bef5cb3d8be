package builder

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

// pyStep is one step of testdata/rpcclient.py: a call through Python's
// xmlrpc.client, a raw request body, or a download.
type pyStep struct {
	Name      string `json:"name"`
	Method    string `json:"method,omitempty"`
	Args      string `json:"args,omitempty"` // a Python expression
	AllowNone bool   `json:"allow_none,omitempty"`
	Raw       string `json:"raw,omitempty"`
	Repeat    int    `json:"repeat,omitempty"`
	Download  string `json:"download,omitempty"` // a Python expression of a URL
	To        string `json:"to,omitempty"`
}

// pyOutcome is what Python saw for one step.
type pyOutcome struct {
	Result json.RawMessage `json:"result"`
	Fault  *struct {
		Code   int    `json:"code"`
		String string `json:"string"`
	} `json:"fault"`
	Error string `json:"error"`
}

// runPython runs the steps in one python3 process against the server's
// /xmlrpc/ and returns each step's outcome by name.
func runPython(t *testing.T, url string, vars map[string]string, steps []pyStep) map[string]pyOutcome {
	t.Helper()
	in, err := json.Marshal(map[string]any{"url": url + "/xmlrpc/", "vars": vars, "steps": steps})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", filepath.Join("testdata", "rpcclient.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 rpcclient.py: %v\n%s", err, stderr.Bytes())
	}
	res := map[string]pyOutcome{}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("python3 rpcclient.py: %v: %s", err, out)
	}
	for _, s := range steps {
		if _, ok := res[s.Name]; !ok {
			t.Fatalf("python3 rpcclient.py: no outcome for %q", s.Name)
		}
	}
	return res
}

// testKey makes a key pair quickly (1024 bits, the smallest Seattle key).
func testKey(t testing.TB) *seattlekey.Pair {
	t.Helper()
	p, err := seattlekey.Generate(rand.Reader, seattlekey.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// serviceKey is Seattle's own service key, from SPEC.md's samples.
func serviceKey(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "samples", "seattle-service.publickey"))
	if err != nil {
		// A fresh clone without ../shared: a key of the same form.
		return testKey(t).Public.String()
	}
	return strings.TrimSpace(string(b))
}

type buildResult struct {
	BuildID    string            `json:"build_id"`
	Installers map[string]string `json:"installers"`
	Users      map[string]struct {
		PublicKey  string `json:"public_key"`
		PrivateKey string `json:"private_key"`
	} `json:"users"`
}

// TestXMLRPCClearinghouse makes the Seattle Clearinghouse's exact call with
// Python's xmlrpc.client against a server that reserves 20 % for Seattle's
// service key, then downloads result['installers']['linux'] as the donor's
// browser would, and checks what the archive holds.
func TestXMLRPCClearinghouse(t *testing.T) {
	service := serviceKey(t)
	s := startServer(t, Config{Reserve: Reserve{Percent: 20, Owner: service}})
	k1, k2 := testKey(t), testKey(t)
	tgz := filepath.Join(t.TempDir(), "linux.tar.gz")
	vars := map[string]string{"K1": k1.Public.String(), "K2": k2.Public.String()}
	out := runPython(t, s.url, vars, []pyStep{
		{Name: "version", Method: "api_version"},
		{Name: "build", Method: "build_installers",
			Args: `([{'percentage': 80, 'owner': 'owner', 'users': ['user']}], {'owner': {'public_key': K1}, 'user': {'public_key': K2}})`},
		{Name: "again", Method: "build_installers",
			Args: `([{'percentage': 80, 'owner': 'owner', 'users': ['user']}], {'owner': {'public_key': K1}, 'user': {'public_key': K2}})`},
		{Name: "urls", Method: "get_urls", Args: `(results['build']['build_id'],)`},
		{Name: "download", Download: `results['build']['installers']['linux']`, To: tgz},
	})
	for name, o := range out {
		if o.Fault != nil || o.Error != "" {
			t.Fatalf("%s: fault %+v error %q", name, o.Fault, o.Error)
		}
	}
	var version string
	json.Unmarshal(out["version"].Result, &version)
	if version != "2.0" {
		t.Errorf("api_version() = %q, want 2.0", version)
	}
	var res, again buildResult
	if err := json.Unmarshal(out["build"].Result, &res); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(out["again"].Result, &again)
	if !validID(res.BuildID) || again.BuildID != res.BuildID {
		t.Errorf("build_id %q, the same call again %q: want one well-formed ID", res.BuildID, again.BuildID)
	}
	for name, want := range map[string]string{"owner": vars["K1"], "user": vars["K2"]} {
		u := res.Users[name]
		if u.PublicKey != want || u.PrivateKey != "" {
			t.Errorf("users[%s] = %+v, want its own public key and no private key", name, u)
		}
	}
	if len(res.Users) != 2 {
		t.Errorf("users %v, want owner and user", res.Users)
	}
	// Both the original's platform names and ours, as absolute URLs.
	for name, p := range map[string]Platform{"linux": LinuxAMD64, "mac": DarwinARM64, "windows": WindowsAMD64} {
		if want := s.url + "/builds/" + res.BuildID + "/" + string(p); res.Installers[name] != want {
			t.Errorf("installers[%s] = %q, want %q", name, res.Installers[name], want)
		}
	}
	for _, p := range Platforms {
		if want := s.url + "/builds/" + res.BuildID + "/" + string(p); res.Installers[string(p)] != want {
			t.Errorf("installers[%s] = %q, want %q", p, res.Installers[string(p)], want)
		}
	}
	if len(res.Installers) != len(Platforms)+3 {
		t.Errorf("installers %v: want %d platforms", res.Installers, len(Platforms)+3)
	}
	var urls map[string]string
	json.Unmarshal(out["urls"].Result, &urls)
	if !mapsEqual(urls, res.Installers) {
		t.Errorf("get_urls = %v, want build_installers' %v", urls, res.Installers)
	}

	// The donor's download: the Linux archive with the vesselinfo where
	// Seattle's clients look for it.
	b, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	var vi string
	for _, f := range readArchive(t, LinuxAMD64, b) {
		if f.name == "seattle/seattle_repy/vesselinfo" {
			vi = string(f.body)
		}
	}
	want := "Percent 80\nOwner " + vars["K1"] + "\nUser " + vars["K2"] + "\nPercent 20\nOwner " + service + "\n"
	if vi != want {
		t.Errorf("seattle/seattle_repy/vesselinfo:\n%s\nwant:\n%s", vi, want)
	}
	if ID([]byte(vi)) != res.BuildID {
		t.Errorf("the build ID is not the ID of the archive's vesselinfo")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestXMLRPCGeneratesKeys: users named without a key get a fresh key pair;
// its private key is in the answer and nowhere else (not in the data
// directory, not in the log).
func TestXMLRPCGeneratesKeys(t *testing.T) {
	var logBuf lockedBuffer
	s := startServer(t, Config{Log: newTestLogger(&logBuf), PublicURL: "https://builder.example.org/"})
	k1 := testKey(t)
	out := runPython(t, s.url, map[string]string{"K1": k1.Public.String()}, []pyStep{
		{Name: "build", Method: "build_installers",
			Args: `([{'percentage': 60, 'owner': 'alex', 'users': ['bob', 'carol']}, {'percentage': 40, 'owner': 'bob'}], {'alex': {'public_key': K1}})`},
	})
	o := out["build"]
	if o.Fault != nil || o.Error != "" {
		t.Fatalf("fault %+v error %q", o.Fault, o.Error)
	}
	var res buildResult
	if err := json.Unmarshal(o.Result, &res); err != nil {
		t.Fatal(err)
	}
	if u := res.Users["alex"]; u.PublicKey != k1.Public.String() || u.PrivateKey != "" {
		t.Errorf("alex: %+v, want the key given and no private key", u)
	}
	var privates []string
	for _, name := range []string{"bob", "carol"} {
		u := res.Users[name]
		pub, err := seattlekey.ParsePublic(u.PublicKey)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		priv, err := seattlekey.ParsePrivate(u.PrivateKey)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !seattlekey.Matches(pub, priv) {
			t.Errorf("%s: the private key is not the public key's", name)
		}
		if bits := pub.N.BitLen(); bits != seattlekey.DefaultBits {
			t.Errorf("%s: a key of %d bits, want %d", name, bits, seattlekey.DefaultBits)
		}
		privates = append(privates, u.PrivateKey, priv.D.String(), priv.P.String())
	}
	if res.Users["bob"].PublicKey == res.Users["carol"].PublicKey {
		t.Error("bob and carol got the same key")
	}
	if want := "https://builder.example.org/builds/" + res.BuildID + "/linux-amd64"; res.Installers["linux"] != want {
		t.Errorf("installers[linux] = %q, want %q (--public-url)", res.Installers["linux"], want)
	}
	// The stored build holds public keys only.
	in, err := s.load(context.Background(), res.BuildID)
	if err != nil {
		t.Fatal(err)
	}
	wantVI := "Percent 60\nOwner " + k1.Public.String() + "\nUser " + res.Users["bob"].PublicKey + "\nUser " + res.Users["carol"].PublicKey +
		"\nPercent 40\nOwner " + res.Users["bob"].PublicKey + "\n"
	if string(in.vesselinfo) != wantVI {
		t.Errorf("stored vesselinfo:\n%s\nwant:\n%s", in.vesselinfo, wantVI)
	}
	// And the public keys by user name.
	rec, err := s.store.Get(context.Background(), res.BuildID)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alex", "bob", "carol"} {
		if rec.Keys[name] != res.Users[name].PublicKey {
			t.Errorf("stored key of %s: %.40q, want %.40q", name, rec.Keys[name], res.Users[name].PublicKey)
		}
	}
	filepath.Walk(s.data, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, p := range privates {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s holds a private key", path)
			}
		}
		return nil
	})
	for _, p := range privates {
		if strings.Contains(logBuf.String(), p) {
			t.Error("the log holds a private key")
		}
	}
	if !strings.Contains(logBuf.String(), "generated key pairs") {
		t.Errorf("the log does not say keys were generated:\n%s", logBuf.String())
	}
}

// TestXMLRPCFaults sends every kind of bad call through Python's
// xmlrpc.client (and bad bodies through urllib) and checks that each gets a
// fault whose words say what was wrong, never an HTTP error.
func TestXMLRPCFaults(t *testing.T) {
	service := serviceKey(t)
	s := startServer(t, Config{Reserve: Reserve{Percent: 20, Owner: service}})
	var generated atomic.Int64
	orig := generateKey
	generateKey = func(ctx context.Context) (*seattlekey.Pair, error) { generated.Add(1); return orig(ctx) }
	t.Cleanup(func() { generateKey = orig })

	k := testKey(t).Public.String()
	vars := map[string]string{"K": k, "ID": ID([]byte("Percent 100\nOwner " + k + "\n"))}
	one := func(vessel string) string { return "([" + vessel + "], {'owner': {'public_key': K}})" }
	elevenUsers := "([{'percentage': 80, 'owner': 'owner', 'users': ['user%02d' % i for i in range(11)]}], {'owner': {'public_key': K}})"
	deep := "([" + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "],)"
	call := func(m, body string) string {
		return "<?xml version='1.0'?>\n<methodCall><methodName>" + m + "</methodName><params>" + body + "</params></methodCall>"
	}
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
		`<methodCall><methodName>get_urls</methodName><params><param><value><string>&lol2;</string></value></param></params></methodCall>`
	cases := []struct {
		name  string
		step  pyStep
		code  int
		words string
	}{
		{"api_version with an argument", pyStep{Method: "api_version", Args: "(1,)"}, FaultInvalidParams, "api_version() takes 0 arguments, not 1"},
		{"build_installers without arguments", pyStep{Method: "build_installers"}, FaultInvalidParams, "takes 1 or 2 arguments, not 0"},
		{"build_installers with three arguments", pyStep{Method: "build_installers", Args: "([], {}, 1)"}, FaultInvalidParams, "takes 1 or 2 arguments, not 3"},
		{"get_urls without arguments", pyStep{Method: "get_urls"}, FaultInvalidParams, "get_urls(build_id) takes 1 arguments, not 0"},
		{"no such method", pyStep{Method: "delete_everything"}, FaultNoMethod, `there is no method "delete_everything"`},
		{"vessels not a list", pyStep{Method: "build_installers", Args: "({'percentage': 80},)"}, FaultInvalidParams, "vessels must be a list of structs"},
		{"no vessels", pyStep{Method: "build_installers", Args: "([],)"}, FaultInvalidParams, "no vessels"},
		{"vessel not a struct", pyStep{Method: "build_installers", Args: "(['owner'],)"}, FaultInvalidParams, "vessel 1 is a string"},
		{"unknown vessel field", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 'owner', 'percent': 80}")}, FaultInvalidParams, `vessel 1 has the field "percent"`},
		{"percentage missing", pyStep{Method: "build_installers", Args: one("{'owner': 'owner'}")}, FaultInvalidParams, "vessel 1 has no percentage"},
		{"percentage 0", pyStep{Method: "build_installers", Args: one("{'percentage': 0, 'owner': 'owner'}")}, FaultInvalidParams, "percentage 0 is not between 1 and 100"},
		{"percentage 110", pyStep{Method: "build_installers", Args: one("{'percentage': 110, 'owner': 'owner'}")}, FaultInvalidParams, "percentage 110 is not between 1 and 100"},
		{"percentage not a multiple of 10", pyStep{Method: "build_installers", Args: one("{'percentage': 45, 'owner': 'owner'}")}, FaultInvalidParams, "percentage 45 is not a multiple of 10"},
		{"percentage a double", pyStep{Method: "build_installers", Args: one("{'percentage': 80.0, 'owner': 'owner'}")}, FaultInvalidParams, "percentage must be an integer, not a double"},
		{"percentage a boolean", pyStep{Method: "build_installers", Args: one("{'percentage': True, 'owner': 'owner'}")}, FaultInvalidParams, "percentage must be an integer, not a boolean"},
		{"percentage a string", pyStep{Method: "build_installers", Args: one("{'percentage': '80', 'owner': 'owner'}")}, FaultInvalidParams, "percentage must be an integer, not a string"},
		{"percentage too large for XML-RPC's int", pyStep{Raw: call("build_installers", "<param><value><array><data><value><struct><member><name>percentage</name><value><int>99999999999</int></value></member></struct></value></data></array></value></param>")}, FaultInvalidParams, "is not a valid integer"},
		{"sum of 100 leaves no room for the reserve", pyStep{Method: "build_installers", Args: one("{'percentage': 100, 'owner': 'owner'}")}, FaultInvalidParams, "add up to 100; they must add up to 80, because this server adds a vessel of 20%"},
		{"sum of 70", pyStep{Method: "build_installers", Args: "([{'percentage': 30, 'owner': 'owner'}, {'percentage': 40, 'owner': 'owner'}], {'owner': {'public_key': K}})"}, FaultInvalidParams, "add up to 70; they must add up to 80"},
		{"no owner", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'users': ['owner']}")}, FaultInvalidParams, "vessel 1 has no owner"},
		{"owner not a string", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 7}")}, FaultInvalidParams, "owner must be a user name (a string), not an integer"},
		{"owner name too short", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 'ab'}")}, FaultInvalidParams, `the user name "ab" has 2 characters; a user name has 3 to 40`},
		{"owner name too long", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 'a' * 41}")}, FaultInvalidParams, "has 41 characters"},
		{"owner name starts with _", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': '_owner'}")}, FaultInvalidParams, "must start with a letter or a digit"},
		{"owner name with a dash", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 'own-er'}")}, FaultInvalidParams, `holds "-"; a user name is letters, digits and _ only`},
		{"owner name not ASCII", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 'ownér'}")}, FaultInvalidParams, `holds "é"`},
		{"users not a list", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 'owner', 'users': 'bob'}")}, FaultInvalidParams, "users must be a list of user names, not a string"},
		{"user name invalid", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 'owner', 'users': ['b b']}")}, FaultInvalidParams, `vessel 1: user: the user name "b b" holds " "`},
		{"user named twice", pyStep{Method: "build_installers", Args: one("{'percentage': 80, 'owner': 'owner', 'users': ['bob', 'bob']}")}, FaultInvalidParams, `names the user "bob" twice`},
		{"user_data not a struct", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], [K])"}, FaultInvalidParams, "user_data must be a struct of user names"},
		{"user_data for nobody", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': {'public_key': K}, 'stranger': {'public_key': K}})"}, FaultInvalidParams, `gives a key for "stranger", but no vessel names that user`},
		{"user_data with a bad name", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'x': {'public_key': K}})"}, FaultInvalidParams, `user_data: the user name "x" has 1 characters`},
		{"user_data entry not a struct", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': K})"}, FaultInvalidParams, `user_data["owner"] must be a struct {'public_key': 'e n'}, not a string`},
		{"user_data without public_key", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': {}})"}, FaultInvalidParams, `user_data["owner"] has no 'public_key'`},
		{"user_data with a private key", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': {'public_key': K, 'private_key': '1 2 3'}})"}, FaultInvalidParams, `has the field "private_key"; the only field is 'public_key'`},
		{"public_key not a string", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': {'public_key': 65537}})"}, FaultInvalidParams, `['public_key'] must be a string "e n", not an integer`},
		{"public_key with three numbers", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': {'public_key': '1 2 3'}})"}, FaultInvalidParams, "expected 2 decimal numbers (e n)"},
		{"public_key a file name", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': {'public_key': 'owner.publickey'}})"}, FaultInvalidParams, "found 1"},
		{"public_key not decimal", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': {'public_key': '0x10 33'}})"}, FaultInvalidParams, `e is "0x10", not a decimal number`},
		{"public_key e not below n", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner'}], {'owner': {'public_key': '9 3'}})"}, FaultInvalidParams, "e must be smaller than n"},
		{"more keys to generate than allowed", pyStep{Method: "build_installers", Args: elevenUsers}, FaultInvalidParams, "11 users have no public key; the server generates at most 10"},
		{"more users than a build may name", pyStep{Method: "build_installers", Args: "([{'percentage': 80, 'owner': 'owner', 'users': ['user%03d' % i for i in range(101)]}],)"}, FaultInvalidParams, "the vessels name 102 users; a build may name at most 100"},
		{"more values than a call may hold", pyStep{Method: "get_urls", Args: "(['x'] * 20001,)"}, FaultInvalidCall, "the call holds more than 20000 values"},
		{"nesting too deep", pyStep{Method: "build_installers", Args: deep}, FaultInvalidCall, "values nest more than 16 deep"},
		{"nil", pyStep{Method: "build_installers", Args: "(None,)", AllowNone: true}, FaultInvalidParams, "<nil> is not part of XML-RPC"},
		{"build ID not a string", pyStep{Method: "get_urls", Args: "(12,)"}, FaultInvalidParams, "build_id must be a string, not an integer"},
		{"build ID malformed", pyStep{Method: "get_urls", Args: "('../../etc/passwd',)"}, FaultInvalidParams, `"../../etc/passwd" is not a build ID`},
		{"build ID in upper case", pyStep{Method: "get_urls", Args: "(ID.upper(),)"}, FaultInvalidParams, "is not a build ID: an ID is 32 lower-case hexadecimal digits"},
		{"build ID unknown", pyStep{Method: "get_urls", Args: "(ID,)"}, FaultNoBuild, "there is no build with the ID " + vars["ID"]},
		{"malformed XML", pyStep{Raw: "<?xml version='1.0'?><methodCall><methodName>api_version</methodName><params>"}, FaultParse, "the request ends before the methodCall is complete (line 1)"},
		{"a call cut short", pyStep{Raw: "<methodCall><methodName>api_version</methodName><params>\n"}, FaultParse, "the request ends before the methodCall is complete"},
		{"not XML at all", pyStep{Raw: "percentage=80&owner=owner"}, FaultParse, "not well-formed XML"},
		{"XML but not a call", pyStep{Raw: "<?xml version='1.0'?><methodResponse/>"}, FaultInvalidCall, "expected <methodCall>, found <methodResponse>"},
		{"an unknown type", pyStep{Raw: call("get_urls", "<param><value><bigint>1</bigint></value></param>")}, FaultInvalidCall, "<bigint> is not an XML-RPC type"},
		{"entities declared in a DOCTYPE", pyStep{Raw: laughs}, FaultInvalidCall, "DOCTYPE"},
		{"a body over 1 MiB", pyStep{Raw: call("api_version", "<!--"+strings.Repeat("x", 1<<20)+"-->")}, FaultParse, "larger than the limit of 1 MiB"},
		{"a body of 4 MiB", pyStep{Raw: "x", Repeat: 4 << 20}, FaultParse, "larger than the limit of 1 MiB"},
	}
	var steps []pyStep
	for _, tc := range cases {
		tc.step.Name = tc.name
		steps = append(steps, tc.step)
	}
	outs := runPython(t, s.url, vars, steps)
	for _, tc := range cases {
		out := outs[tc.name]
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			if out.Fault == nil {
				t.Fatalf("no fault: result %s error %q", out.Result, out.Error)
			}
			if out.Fault.Code != tc.code || !strings.Contains(out.Fault.String, tc.words) {
				t.Errorf("fault %d %q\nwant %d with %q", out.Fault.Code, out.Fault.String, tc.code, tc.words)
			}
		})
	}
	if n := generated.Load(); n != 0 {
		t.Errorf("%d keys generated for calls that failed, want none", n)
	}
	if c := s.Counters(); c.Stored != 0 {
		t.Errorf("%d builds stored by calls that failed, want none", c.Stored)
	}
}

// TestXMLRPCHTTP: a browser at /xmlrpc/ reads what the API offers; other
// methods are refused; a fault is HTTP 200 with an XML body.
func TestXMLRPCHTTP(t *testing.T) {
	s := startServer(t, Config{Reserve: Reserve{Percent: 20, Owner: serviceKey(t)}})
	for _, path := range []string{"/xmlrpc/", "/xmlrpc"} {
		r := do(t, "GET", s.url+path, nil)
		if r.status != 200 || !bytes.Contains(r.body, []byte("build_installers")) || !bytes.Contains(r.body, []byte("must add up to 80%")) {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
		checkSecurityHeaders(t, r)
	}
	if r := do(t, "PUT", s.url+"/xmlrpc/", strings.NewReader("x")); r.status != 405 || r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("PUT: %d Allow %q", r.status, r.header.Get("Allow"))
	}
	r := do(t, "POST", s.url+"/xmlrpc/", strings.NewReader("<methodCall>"))
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/xml") || !bytes.Contains(r.body, []byte("<fault>")) {
		t.Errorf("POST of a broken call: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
}

// lockedBuffer is a log destination that the server's goroutines and the
// test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestXMLRPCRateLimit: build_installers is a new build and counts against
// the address's rate, as uploads do; beyond it a fault says when to retry,
// and no key is generated for the refused call.
func TestXMLRPCRateLimit(t *testing.T) {
	s := startServer(t, Config{BaseDir: sizedBase(t, 1<<10), BuildRate: 0.01, BuildBurst: 1})
	var generated atomic.Int64
	orig := generateKey
	generateKey = func(ctx context.Context) (*seattlekey.Pair, error) { generated.Add(1); return orig(ctx) }
	t.Cleanup(func() { generateKey = orig })
	out := runPython(t, s.url, nil, []pyStep{
		{Name: "first", Method: "build_installers", Args: "([{'percentage': 100, 'owner': 'owner'}],)"},
		{Name: "second", Method: "build_installers", Args: "([{'percentage': 100, 'owner': 'other'}],)"},
		{Name: "urls", Method: "get_urls", Args: "(results['first']['build_id'],)"},
	})
	if o := out["first"]; o.Fault != nil || o.Error != "" {
		t.Fatalf("first call: %+v %q", o.Fault, o.Error)
	}
	// One build per 100 s: the wait is 100 s less the time the first call
	// took (its key generation), so 9x seconds on a loaded machine.
	if o := out["second"]; o.Fault == nil || o.Fault.Code != FaultLimited || !regexp.MustCompile(`^too many new builds from your address; try again in (9[0-9]|100) seconds`).MatchString(o.Fault.String) {
		t.Errorf("second call: fault %+v error %q, want the rate limit's", o.Fault, o.Error)
	}
	if o := out["urls"]; o.Fault != nil || o.Error != "" {
		t.Errorf("get_urls is not a new build, yet: %+v %q", o.Fault, o.Error)
	}
	if n := generated.Load(); n != 1 {
		t.Errorf("%d keys generated, want 1 (the refused call's none)", n)
	}
}

// TestXMLRPCServerFailures: what fails inside the server is a fault that
// says so, over HTTP 200, and stores nothing.
func TestXMLRPCServerFailures(t *testing.T) {
	s := startServer(t, Config{})
	orig := generateKey
	generateKey = func(context.Context) (*seattlekey.Pair, error) { return nil, errors.New("entropy source gone") }
	t.Cleanup(func() { generateKey = orig })
	out := runPython(t, s.url, nil, []pyStep{
		{Name: "keys", Method: "build_installers", Args: "([{'percentage': 100, 'owner': 'owner'}],)"},
	})
	if f := out["keys"].Fault; f == nil || f.Code != FaultInternal || !strings.Contains(f.String, "could not generate key pairs: entropy source gone") {
		t.Errorf("a failed key generation: %+v %q", out["keys"].Fault, out["keys"].Error)
	}
	if c := s.Counters(); c.Stored != 0 {
		t.Errorf("%d builds stored", c.Stored)
	}
}
