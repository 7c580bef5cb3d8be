package builder

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// TestReserveSumMessage pins sumMessage to the validator's words, which
// Reserve.complete reads the sum from.
func TestReserveSumMessage(t *testing.T) {
	res := vesselinfo.Validate([]byte("Percent 50\nOwner 3 9\n"))
	if len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0].Message, sumMessage+"50;") {
		t.Fatalf("the validator's sum error is %v, want it to start with %q", res.Errors, sumMessage+"50;")
	}
}

func TestReserveCheck(t *testing.T) {
	key := "65537 3233000000000000000000000000001"
	for _, tc := range []struct {
		name string
		r    Reserve
		err  string // "" for none
	}{
		{"none", Reserve{}, ""},
		{"Seattle's", Reserve{Percent: 20, Owner: key}, ""},
		{"a key without a percentage", Reserve{Owner: key}, "an owner key was given but no percentage"},
		{"not a multiple of 10", Reserve{Percent: 25, Owner: key}, "25% is not a multiple of 10 from 10 to 90"},
		{"everything", Reserve{Percent: 100, Owner: key}, "100% is not a multiple of 10 from 10 to 90"},
		{"negative", Reserve{Percent: -10, Owner: key}, "-10% is not a multiple"},
		{"no key", Reserve{Percent: 20}, "no owner key (--reserve-key FILE"},
		{"a private key", Reserve{Percent: 20, Owner: "1 2 3"}, "expected 2 decimal numbers"},
		{"e not below n", Reserve{Percent: 20, Owner: "9 3"}, "e must be smaller than n"},
		{"a file name", Reserve{Percent: 20, Owner: "seattle.publickey"}, "found 1"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			err := tc.r.check()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("check() = %v, want %q", err, tc.err)
			}
		})
	}
	if _, err := New(Config{DataDir: t.TempDir(), BaseDir: t.TempDir(), Reserve: Reserve{Percent: 30}}); err == nil {
		t.Error("New accepted a reserve without a key")
	}
	if _, err := New(Config{DataDir: t.TempDir(), BaseDir: t.TempDir(), PublicURL: "builder.example.org"}); err == nil || !strings.Contains(err.Error(), "https://builder.example.org") {
		t.Errorf("New with a public URL without a scheme: %v", err)
	}
}

// TestReserveREST: the REST API applies the same rule as XML-RPC: the
// uploaded vessels add up to 100 minus the reserve, and the server appends
// the reserved vessel; the stored text uploaded again is the same build.
func TestReserveREST(t *testing.T) {
	key := serviceKey(t)
	s := startServer(t, Config{Reserve: Reserve{Percent: 20, Owner: key + "\n"}})
	user := "Percent 30\nOwner 3 9\nPercent 50\nOwner 5 33\nUser 7 11\n"
	created := do(t, "POST", s.url+"/api/builds", strings.NewReader(strings.TrimSuffix(user, "\n")))
	if created.status != http.StatusCreated {
		t.Fatalf("POST of vessels adding up to 80: %d %s", created.status, created.body)
	}
	var cb createdBody
	json.Unmarshal(created.body, &cb)
	stored := user + "Percent 20\nOwner " + key + "\n"
	if cb.ID != ID([]byte(stored)) {
		t.Errorf("ID %s, want the ID of the vesselinfo with the reserved vessel", cb.ID)
	}
	got := do(t, "GET", s.url+"/api/builds/"+cb.ID, nil)
	var bb buildBody
	json.Unmarshal(got.body, &bb)
	if bb.Vesselinfo != stored || len(bb.Vessels) != 3 || bb.Vessels[2].Owner != key {
		t.Errorf("stored build %+v, want:\n%s", bb, stored)
	}
	again := do(t, "POST", s.url+"/api/builds", strings.NewReader(stored))
	json.Unmarshal(again.body, &cb)
	if again.status != http.StatusCreated || cb.ID != bb.ID {
		t.Errorf("POST of the stored text: %d %s, want the same build", again.status, again.body)
	}
	for _, tc := range []struct {
		name, text string
		want       []lineError
	}{
		{"a sum of 100", "Percent 100\nOwner 3 9\n", []lineError{{2, "the percentages add up to 100; they must add up to 80, because this server adds a vessel of 20% owned by its service key to every build, so your vessels must add up to 80%"}}},
		{"a sum of 60", "Percent 60\nOwner 3 9", []lineError{{2, "the percentages add up to 60; they must add up to 80, because this server adds a vessel of 20% owned by its service key to every build, so your vessels must add up to 80%"}}},
		{"other errors stand", "Percent 80\nOwner 9 3\n", []lineError{{2, "Owner key: e must be smaller than n"}}},
		{"empty", "", vesselinfoErrors("")},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := do(t, "POST", s.url+"/api/builds", strings.NewReader(tc.text))
			var eb errorsBody
			json.Unmarshal(r.body, &eb)
			if r.status != http.StatusUnprocessableEntity || len(eb.Errors) != len(tc.want) {
				t.Fatalf("%d %s, want 422 with %v", r.status, r.body, tc.want)
			}
			for i, e := range eb.Errors {
				if e.Line != tc.want[i].Line || !strings.Contains(e.Message, tc.want[i].Message) {
					t.Errorf("error %d: %+v, want %+v", i, e, tc.want[i])
				}
			}
		})
	}
	if c := s.Counters(); c.Stored != 1 {
		t.Errorf("%d builds stored, want 1", c.Stored)
	}
}

func vesselinfoErrors(text string) []lineError {
	var es []lineError
	for _, e := range vesselinfo.Validate([]byte(text)).Errors {
		es = append(es, lineError{e.Line, e.Message})
	}
	return es
}

// TestConfigAPI: GET /api/config tells scripts the reserved vessel, or null.
func TestConfigAPI(t *testing.T) {
	key := serviceKey(t)
	for _, tc := range []struct {
		r    Reserve
		want string
	}{
		{Reserve{}, `{"reserve":null}`},
		{Reserve{Percent: 20, Owner: key}, `{"reserve":{"percent":20,"owner":"` + key + `"}}`},
	} {
		s := startServer(t, Config{Reserve: tc.r})
		r := do(t, "GET", s.url+"/api/config", nil)
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != tc.want {
			t.Errorf("GET /api/config: %d %s, want %s", r.status, r.body, tc.want)
		}
		page := do(t, "GET", s.url+"/", nil)
		wantMeta := `<meta name="reserve" content="">`
		if tc.r.Percent > 0 {
			wantMeta = `<meta name="reserve" content="20 ` + key + `">`
		}
		if !strings.Contains(string(page.body), wantMeta) {
			t.Errorf("the page lacks %.80s", wantMeta)
		}
	}
}
