package builder

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeCall(t *testing.T) {
	wrap := func(params string) string {
		return "<?xml version=\"1.0\"?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n" + params + "</params>\n</methodCall>\n"
	}
	param := func(v string) string { return "<param><value>" + v + "</value></param>\n" }
	for _, tc := range []struct {
		name string
		body string
		want []any
	}{
		{"no params element", "<methodCall><methodName>m</methodName></methodCall>", nil},
		{"empty params", wrap(""), nil},
		{"a bare value is a string", wrap(param("owner")), []any{"owner"}},
		{"an empty value is an empty string", wrap(param("")), []any{""}},
		{"string keeps blanks and entities", wrap(param("<string> a &amp; b </string>")), []any{" a & b "}},
		{"int, i4, i8", wrap(param("<int>80</int>") + param("<i4>-7</i4>") + param("<i8>99999999999</i8>")), []any{int64(80), int64(-7), int64(99999999999)}},
		{"boolean and double", wrap(param("<boolean>1</boolean>") + param("<double>0.5</double>")), []any{true, 0.5}},
		{"base64", wrap(param("<base64>aGVs\nbG8=</base64>")), []any{[]byte("hello")}},
		{"dateTime", wrap(param("<dateTime.iso8601>20261130T06:30:00</dateTime.iso8601>")), []any{time.Date(2026, 11, 30, 6, 30, 0, 0, time.UTC)}},
		{"array and struct", wrap(param("<array><data><value><struct><member><name>percentage</name><value><int>80</int></value></member><member><name>users</name><value><array><data></data></array></value></member></struct></value></data></array>")),
			[]any{[]any{rpcStruct{"percentage": int64(80), "users": []any{}}}}},
		{"comments are ignored", "<!-- hi --><methodCall><!-- x --><methodName>m</methodName><params><param><value><int>1</int></value></param></params></methodCall><!-- bye -->", []any{int64(1)}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			call, err := decodeCall(strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if call.Method != "m" || !reflect.DeepEqual(call.Params, tc.want) {
				t.Errorf("got %q %#v, want %#v", call.Method, call.Params, tc.want)
			}
		})
	}
}

func TestDecodeCallRefuses(t *testing.T) {
	nest := func(n int) string {
		return "<methodCall><methodName>m</methodName><params><param><value>" + strings.Repeat("<array><data><value>", n) +
			"x" + strings.Repeat("</value></data></array>", n) + "</value></param></params></methodCall>"
	}
	for _, tc := range []struct {
		name, body, words string
	}{
		{"empty body", "", "ends before the methodCall is complete"},
		{"16 levels is the limit", nest(16), "nest more than 16 deep"},
		{"text between elements", "<methodCall>hello<methodName>m</methodName></methodCall>", "unexpected text"},
		{"two calls", "<methodCall><methodName>m</methodName></methodCall><methodCall/>", "after </methodCall>"},
		{"an element in a name", "<methodCall><methodName><b>m</b></methodName></methodCall>", "holds text only"},
		{"text and a type in one value", "<methodCall><methodName>m</methodName><params><param><value>a<int>1</int></value></param></params></methodCall>", "both text and <int>"},
		{"duplicate member", "<methodCall><methodName>m</methodName><params><param><value><struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct></value></param></params></methodCall>", `member "a" twice`},
		{"a boolean of 2", "<methodCall><methodName>m</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>", "must be 0 or 1"},
		{"an int over 32 bits", "<methodCall><methodName>m</methodName><params><param><value><int>2147483648</int></value></param></params></methodCall>", "not a valid integer"},
		{"another encoding", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>m</methodName></methodCall>", "send UTF-8"},
		{"an external entity", "<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><methodCall><methodName>&x;</methodName></methodCall>", "DOCTYPE"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			_, err := decodeCall(strings.NewReader(tc.body))
			var f *rpcFault
			if !errors.As(err, &f) || !strings.Contains(f.String, tc.words) {
				t.Errorf("error %v, want a fault with %q", err, tc.words)
			}
		})
	}
	// One level less than the limit is fine.
	if _, err := decodeCall(strings.NewReader(nest(15))); err != nil {
		t.Errorf("15 levels: %v", err)
	}
}

func TestEncodeResponse(t *testing.T) {
	var b bytes.Buffer
	encodeResponse(&b, map[string]any{"b": []string{"x<y"}, "a": map[string]string{"k": "v&"}, "n": 3, "t": true})
	want := `<?xml version="1.0"?>` + "\n" + `<methodResponse><params><param><value><struct>` +
		`<member><name>a</name><value><struct><member><name>k</name><value><string>v&amp;</string></value></member></struct></value></member>` +
		`<member><name>b</name><value><array><data><value><string>x&lt;y</string></value></data></array></value></member>` +
		`<member><name>n</name><value><int>3</int></value></member>` +
		`<member><name>t</name><value><boolean>1</boolean></value></member>` +
		`</struct></value></param></params></methodResponse>` + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// FuzzDecodeCall: no body makes the decoder panic, and every failure is a
// fault with words.
func FuzzDecodeCall(f *testing.F) {
	f.Add("<methodCall><methodName>build_installers</methodName><params><param><value><array><data><value><struct><member><name>percentage</name><value><int>80</int></value></member></struct></value></data></array></value></param></params></methodCall>")
	f.Add("<methodCall><methodName>api_version</methodName></methodCall>")
	f.Add("<methodCall><methodName>m</methodName><params><param><value><base64>aGk=</base64></value></param></params></methodCall>")
	f.Fuzz(func(t *testing.T, body string) {
		call, err := decodeCall(strings.NewReader(body))
		if err != nil {
			var fault *rpcFault
			if !errors.As(err, &fault) || fault.String == "" {
				t.Fatalf("error %v is not a fault with words", err)
			}
			return
		}
		if call == nil {
			t.Fatal("no call and no error")
		}
	})
}
