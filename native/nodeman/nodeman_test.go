package nodeman

import (
	"crypto/rand"
	"flag"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/python"

	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// python3 is the interpreter the read-backs (see package python).
func python3(t testing.TB, covered string) string {
	t.Helper()
	return python.Path(t, "to read nodeman.cfg back as the node manager does", covered)
}

// fixedKeys is a tiny key pair so that golden files stay the same; the
// real ones are checked in TestRealKeysReadByPython.
var fixedKeys = &seattlekey.Pair{
	Public:  seattlekey.Public{E: big.NewInt(5), N: big.NewInt(91)},
	Private: seattlekey.Private{D: big.NewInt(29), P: big.NewInt(7), Q: big.NewInt(13)},
}

// shipped is a nodeman.cfg as a bundle ships it, with a key the installer
// does not know (kept), a Python 2 long and a float.
const shipped = "{'seattle_installed': False, 'crontab_updated_for_2009_installer': False,\n 'ports': [1224, 2888, 9625, 10348, 39303, 48126, 52862, 57344, 64310],\n 'pollfrequency': 1.0, 'service_vessel': 'v2', 'custom': {'big': 123456789012345678901234567890L, 'when': 1.5e-3, 'none': None, 'pair': (1, 'a\\'b')}}\n"

func TestApplyGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		base string // "" for the defaults
		s    Settings
	}{
		{"defaults_keys_only", "", Settings{Keys: fixedKeys, Installed: true}},
		{"nm_ip_and_iface", "", Settings{NM: []Pref{{true, "10.0.0.1"}, {false, "eth0"}}, Keys: fixedKeys, Installed: true}},
		{"repy_restricted", "", Settings{Repy: []Pref{{false, "wlan0"}, {true, "::1"}}, RepyNoOtherIPs: true, Keys: fixedKeys, Installed: true}},
		{"repy_nootherips_alone", "", Settings{RepyNoOtherIPs: true, Keys: fixedKeys, Installed: true}},
		{"prepend_and_dir", "", Settings{RepyPrepend: []string{"encasementlib.r2py", "sl.r2py"}, RepyPrependDir: "/opt/seattle/layer's dir", Keys: fixedKeys, Installed: true}},
		{"onlynetwork", "", Settings{NM: []Pref{{true, "192.168.1.2"}}}},
		{"shipped_keeps_unknown_keys", shipped, Settings{NM: []Pref{{false, "eth1"}}, Keys: fixedKeys, Installed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := Defaults()
			if tc.base != "" {
				var err error
				if base, err = Read([]byte(tc.base)); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.s.Check(); err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(Apply(base, tc.s))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				os.WriteFile(golden, got, 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			// Read back, it is the same dict.
			again, err := Read(got)
			if err != nil {
				t.Fatal(err)
			}
			if s, _ := Format(again); s+"\n" != string(got) {
				t.Errorf("read back and written again:\n%s", s)
			}
			if Installed(again) != tc.s.Installed {
				t.Errorf("Installed = %v", Installed(again))
			}
		})
	}
}

// TestGoldenReadByPython has Python's ast.literal_eval read every golden
// file and checks the keys the node manager looks for.
func TestGoldenReadByPython(t *testing.T) {
	py := python3(t, "TestApplyGolden checks that this build writes these golden files byte for byte, and the Linux run has Python read them")
	goldens, _ := filepath.Glob("testdata/*.golden")
	if len(goldens) < 7 {
		t.Fatalf("only %d golden files", len(goldens))
	}
	args := append([]string{"-c", `import ast, sys
for p in sys.argv[1:]:
    d = ast.literal_eval(open(p).read())
    nr = d['networkrestrictions']
    assert set(nr) == {'nm_restricted', 'nm_user_preference', 'repy_restricted', 'repy_user_preference', 'repy_nootherips'}, nr
    assert all(type(t) is tuple and type(t[0]) is bool and type(t[1]) is str for t in nr['nm_user_preference'] + nr['repy_user_preference'])
    assert nr['nm_restricted'] == bool(nr['nm_user_preference'])
    assert type(d['repy_prepend']) is list
    assert d['repy_prepend_dir'] is None or type(d['repy_prepend_dir']) is str
    if d['seattle_installed']:
        assert list(d)[-1] == 'seattle_installed'
        assert set(d['publickey']) == {'e', 'n'} and set(d['privatekey']) == {'d', 'p', 'q'}
    print(p.split('/')[-1], d['seattle_installed'], nr['nm_user_preference'], nr['repy_user_preference'], nr['repy_nootherips'], d['repy_prepend'], d['repy_prepend_dir'], d.get('custom'))
`}, goldens...)
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	for _, want := range []string{
		"nm_ip_and_iface.golden True [(True, '10.0.0.1'), (False, 'eth0')] [] False [] None None",
		"repy_restricted.golden True [] [(False, 'wlan0'), (True, '::1')] True [] None None",
		"prepend_and_dir.golden True [] [] False ['encasementlib.r2py', 'sl.r2py'] /opt/seattle/layer's dir None",
		"onlynetwork.golden False [(True, '192.168.1.2')] [] False [] None None",
		"shipped_keeps_unknown_keys.golden True [(False, 'eth1')] [] False [] None {'big': 123456789012345678901234567890, 'when': 0.0015, 'none': None, 'pair': (1, \"a'b\")}",
	} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("python3 printed\n%s\nwithout\n%s", out, want)
		}
	}
}

// realKeysConfig is a nodeman.cfg holding a real 1024-bit key pair.
func realKeysConfig(t *testing.T) (*seattlekey.Pair, []byte) {
	t.Helper()
	k, err := seattlekey.Generate(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Marshal(Apply(Defaults(), Settings{Keys: k, Installed: true}))
	if err != nil {
		t.Fatal(err)
	}
	return k, cfg
}

// TestRealKeysReadBack: a real key pair stored is read back whole, and is
// a valid RSA key of its size: n = p*q, e*d = 1 mod lcm(p-1, q-1).
func TestRealKeysReadBack(t *testing.T) {
	k, cfg := realKeysConfig(t)
	back, err := Read(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := Keys(back)
	if err != nil {
		t.Fatal(err)
	}
	if !seattlekey.Matches(k2.Public, k2.Private) || k2.Public.N.Cmp(k.Public.N) != 0 || k2.Private.D.Cmp(k.Private.D) != 0 {
		t.Error("the keys read back are not the ones stored")
	}
	one := big.NewInt(1)
	p1, q1 := new(big.Int).Sub(k2.Private.P, one), new(big.Int).Sub(k2.Private.Q, one)
	lam := new(big.Int).Div(new(big.Int).Mul(p1, q1), new(big.Int).GCD(nil, nil, p1, q1))
	ed := new(big.Int).Mul(k2.Public.E, k2.Private.D)
	if new(big.Int).Mul(k2.Private.P, k2.Private.Q).Cmp(k2.Public.N) != 0 || ed.Mod(ed, lam).Cmp(one) != 0 || k2.Public.N.BitLen() != 1024 {
		t.Errorf("not a valid 1024-bit RSA key: n has %d bits", k2.Public.N.BitLen())
	}
}

// TestRealKeysReadByPython stores a real 1024-bit key pair and has Python
// check it is a valid RSA key of that size: n = p*q, e*d = 1 mod lcm(p-1, q-1).
func TestRealKeysReadByPython(t *testing.T) {
	py := python3(t, "TestRealKeysReadBack checks the stored key's arithmetic in Go, and TestApplyGolden that this build writes keys as the golden files Python reads in the Linux run")
	_, cfg := realKeysConfig(t)
	p := filepath.Join(t.TempDir(), File)
	os.WriteFile(p, cfg, 0o600)
	out, err := exec.Command(py, "-c", `import ast, sys, math
d = ast.literal_eval(open(sys.argv[1]).read())
pub, priv = d['publickey'], d['privatekey']
n, e, dd, p, q = pub['n'], pub['e'], priv['d'], priv['p'], priv['q']
lam = (p-1)*(q-1)//math.gcd(p-1, q-1)
print(n == p*q, (e*dd) % lam == 1, n.bit_length(), d['seattle_installed'])
`, p).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "True True 1024 True" {
		t.Errorf("python3 says %s", got)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string // want: Format of the result, or "error: ..." substring
	}{
		{"empty_dict", "{}", "{}"},
		{"comment_and_blanks", "  # a comment\n{'a': 1,}\n", "{'a': 1}"},
		{"double_quotes_and_escapes", `{"a\tb": "x\\y\"z\n", 'u': u'\u00e9', 'o': '\101\x42'}`, `{'a\tb': 'x\\y"z\n', 'u': '\xc3\xa9', 'o': 'AB'}`},
		{"python2_long_and_negative", "[1L, -2, - 3, 0x10, 0o7, 010]", "[1, -2, -3, 16, 7, 8]"},
		{"floats_kept_as_written", "[1.0, .5, 1e3, -2.5E-3]", "[1.0, .5, 1e3, -2.5E-3]"},
		{"tuples", "((1,), (), (2), (3, 4,))", "((1,), (), 2, (3, 4))"},
		{"words", "[True, False, None]", "[True, False, None]"},
		{"tuple_key", "{(1, 'a'): 2}", "{(1, 'a'): 2}"},
		{"triple_quoted", "'''a\nb'''", `'a\nb'`},
		{"unknown_escape_kept", `'\q'`, `'\\q'`},
		{"continuation", "{'a':\\\n 1}", "{'a': 1}"},

		{"nothing", "", "error: ends where a value should be"},
		{"unclosed_dict", "{'a': 1", "error: before the closing '}'"},
		{"unclosed_string", "{'a': 'x}", "error: not closed"},
		{"missing_colon", "{'a' 1}", "error: expected ':'"},
		{"missing_comma", "[1 2]", "error: expected ','"},
		{"duplicate_key", "{'a': 1, 'a': 2}", "error: appears twice"},
		{"list_key", "{[1]: 2}", "error: cannot be a key"},
		{"name", "{'a': os.system('x')}", "error: is not a Python literal"},
		{"call_after_value", "{'a': 1}()", "error: after the value"},
		{"bad_hex_escape", `'\xZZ'`, "error: hex digits"},
		{"bad_number", "1.2.3", "error: is not a number"},
		{"bad_integer", "12abc", "error: is not a number"},
		{"too_deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), "error: nested more than"},
		{"huge_number", strings.Repeat("9", 5000), "error: more than 4300 digits"},
		{"too_large", "'" + strings.Repeat("a", MaxSize) + "'", "error: more than the"},
		{"big_unicode_escape", `'\U00110000'`, "error: is not a character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Parse([]byte(tc.src))
			if strings.HasPrefix(tc.want, "error: ") {
				if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tc.want, "error: ")) {
					t.Fatalf("error %v, want one containing %q", err, strings.TrimPrefix(tc.want, "error: "))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := Format(v)
			if err != nil || got != tc.want {
				t.Errorf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	if _, err := Read([]byte("[1]")); err == nil || !strings.Contains(err.Error(), "not a Python dict") {
		t.Errorf("a list: %v", err)
	}
	d, err := Read([]byte(shipped))
	if err != nil {
		t.Fatal(err)
	}
	if Installed(d) {
		t.Error("the shipped one says installed")
	}
	d.Set("seattle_installed", "yes")
	if Installed(d) {
		t.Error("a string counts as installed")
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Settings
		want string
	}{
		{"good", Settings{NM: []Pref{{true, "127.0.0.1"}, {false, "Local Area Connection"}}, Repy: []Pref{{true, "fe80::1"}}}, ""},
		{"not_an_ip", Settings{NM: []Pref{{true, "example.org"}}}, `--nm-ip "example.org" is not an IP address`},
		{"empty_iface", Settings{Repy: []Pref{{false, ""}}}, `--repy-iface "" is not an interface name`},
		{"control_in_iface", Settings{NM: []Pref{{false, "eth0\n"}}}, `--nm-iface "eth0\n"`},
		{"prepend_control", Settings{RepyPrepend: []string{"a\x00"}}, "--repy-prepend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Check()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(shipped))
	f.Add([]byte(defaults))
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := Parse(src)
		if err != nil {
			return
		}
		s, err := Format(v)
		if err != nil {
			t.Fatalf("parsed but cannot format: %v", err)
		}
		v2, err := Parse([]byte(s))
		if err != nil {
			t.Fatalf("formatted %q does not parse: %v", s, err)
		}
		if s2, _ := Format(v2); s2 != s {
			t.Fatalf("not stable: %q then %q", s, s2)
		}
	})
}
