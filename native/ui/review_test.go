package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/plan"
)

// windowSession runs a session as the window does, with a Close that is
// recorded.
func windowSession(t *testing.T, opts install.Options) (*bridge.Server, chan outcome, chan struct{}) {
	t.Helper()
	closed := make(chan struct{})
	srv, done := runSession(t, opts, "webview", func() { close(closed) })
	return srv, done, closed
}

func reviewOf(t *testing.T, p *fakePage) bridge.Review {
	t.Helper()
	msgs := p.until("review")
	var rev bridge.Review
	if err := json.Unmarshal(msgs[len(msgs)-1].Raw, &rev); err != nil {
		t.Fatal(err)
	}
	return rev
}

// resourceFile reads resource.vN back as name → value.
func resourceFile(t *testing.T, path string) resource.Values {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := resource.Values{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 3 && fs[0] == "resource" {
			v, err := strconv.ParseFloat(fs[2], 64)
			if err != nil {
				t.Fatal(err)
			}
			out[resource.Name(fs[1])] = v
		}
	}
	return out
}

// TestReviewThenInstallWritesThePlanShown: the page's plan for 37 % (the
// install's plan code, as the page runs it) is what the install writes,
// and the defaults for the failed measurement were accepted in the review,
// so nobody is asked again.
func TestReviewThenInstallWritesThePlanShown(t *testing.T) {
	opts := options(t, true)
	srv, done, _ := windowSession(t, opts)
	p := connectPage(t, srv)
	rev := reviewOf(t, p)
	src, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	max, offcut := resource.Values{}, resource.Values{}
	for _, n := range resource.All {
		max[n], offcut[n] = rev.Maximums[string(n)], rev.Offcut[string(n)]
	}
	shown := plan.Preview(src, max, offcut, 37)
	if !shown.OK || len(shown.Vessels) != 4 || !strings.Contains(shown.Headline, "of a processor core") {
		t.Fatalf("preview %+v", shown)
	}
	// The same as `install --dry-run --percent 37` plans from the same
	// measurements.
	dry := opts
	dry.DryRun, dry.Percent, dry.Yes = true, 37, true
	dres, err := install.Run(context.Background(), dry, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.NewView(dres.Plan, nil); !reflect.DeepEqual(got, shown) {
		t.Errorf("the dry run plans\n%+v\nthe review shows\n%+v", got, shown)
	}
	p.send(`{"type":"start","percent":37,"defaults":true}`)
	msgs := p.until("result")
	for _, m := range msgs {
		if m.Type == "prompt" {
			t.Errorf("the donor was asked again after the review: %s", m.Raw)
		}
	}
	var planMsg bridge.Plan
	for _, m := range msgs {
		if m.Type == "plan" {
			json.Unmarshal(m.Raw, &planMsg)
		}
	}
	if planMsg.Headline != shown.Headline {
		t.Errorf("the install's plan says %q, the review said %q", planMsg.Headline, shown.Headline)
	}
	for i, v := range shown.Vessels {
		got := resourceFile(t, filepath.Join(opts.Dir, "resource."+v.Name))
		for k, n := range resource.All {
			if got[n] != v.Values[k] {
				t.Errorf("%s %s: written %v, shown %v", v.Name, n, got[n], v.Values[k])
			}
		}
		if planMsg.Vessels[i].Texts[0] != v.Texts[0] {
			t.Errorf("%s: the summary shows %q, the review %q", v.Name, planMsg.Vessels[i].Texts[0], v.Texts[0])
		}
	}
	// After: the window stays for the donor's next step; Close ends it.
	p.send(`{"type":"act","action":"close"}`)
	if o := wait(t, done); o.err != nil || !o.res.OK {
		t.Errorf("session %+v %v", o.res, o.err)
	}
}

// TestInstalledDirectoryIsSeenBeforeInstall: the review says the
// directory holds an install before the donor presses anything; Uninstall
// there removes it (the manifest-driven uninstall), and the review comes
// again, now empty; Try again after an install goes back to the review;
// Close before Install writes nothing and closes the window.
func TestInstalledDirectoryIsSeenBeforeInstall(t *testing.T) {
	opts := options(t, false)
	if _, err := install.Run(context.Background(), opts, nil, nil); err != nil {
		t.Fatal(err)
	}
	srv, done, closed := windowSession(t, opts)
	p := connectPage(t, srv)
	if rev := reviewOf(t, p); !rev.Installed {
		t.Fatal("the review does not say the directory is installed")
	}
	p.send(`{"type":"act","action":"uninstall"}`)
	msgs := p.until("uninstalled")
	var u bridge.Uninstalled
	json.Unmarshal(msgs[len(msgs)-1].Raw, &u)
	if !u.OK || u.Title != "Uninstalled" || !strings.Contains(u.Message, opts.Dir) {
		t.Errorf("uninstalled %s", msgs[len(msgs)-1].Raw)
	}
	for _, s := range []string{u.Title, u.Message, u.Next} {
		for _, bad := range cliWords {
			if strings.Contains(s, bad) {
				t.Errorf("the uninstall says %q", s)
			}
		}
	}
	if ok, _ := state.Installed(opts.Dir); ok {
		t.Error("still installed after Uninstall")
	}
	if rev := reviewOf(t, p); rev.Installed {
		t.Error("the review after Uninstall still says installed")
	}
	// Install, then Try again: the review again, and it says installed.
	p.send(`{"type":"start","percent":10}`)
	p.until("result")
	p.send(`{"type":"act","action":"try-again"}`)
	if rev := reviewOf(t, p); !rev.Installed {
		t.Error("the review after an install does not say installed")
	}
	p.send(`{"type":"act","action":"close"}`)
	select {
	case <-closed:
	case <-done:
		t.Fatal("the session ended without closing the window")
	}
	if o := wait(t, done); o.res != nil || o.err == nil {
		t.Errorf("Close before Install: %+v %v", o.res, o.err)
	}
}

func TestActIsChecked(t *testing.T) {
	for _, bad := range []string{`{"type":"act"}`, `{"type":"act","action":"format-disk"}`, `{"type":"act","action":1}`} {
		if _, err := bridge.ParsePage([]byte(bad)); err == nil {
			t.Errorf("%s was taken", bad)
		}
	}
	if m, err := bridge.ParsePage([]byte(`{"type":"act","action":"open-log"}`)); err != nil || m.(*bridge.Act).Action != "open-log" {
		t.Errorf("open-log: %v %v", m, err)
	}
}
