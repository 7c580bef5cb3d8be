package builder

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

// recorded is every request a server received: method, URL and body.
type recorded struct {
	mu   sync.Mutex
	reqs []string
}

func (rec *recorded) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Method+" "+r.URL.String()+"\n"+string(body))
		rec.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (rec *recorded) all() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.reqs...)
}

// TestKeysInChromium: an operator generates two key pairs in the page
// (WebAssembly in a Web Worker), loads a third user's .publickey file,
// composes two vessels from those users with the form (split, owner,
// users), is asked to save the private keys before building, saves them as
// one zip, builds, and the archive's vesselinfo holds exactly those public
// keys. Every request the server received is recorded: none carries a
// private key. A reload keeps the users, the text and the form, but no
// private key.
func TestKeysInChromium(t *testing.T) {
	s, err := New(Config{DataDir: filepath.Join(t.TempDir(), "data"), BaseDir: fakeBase, BuildRate: -1, DownloadsPerAddress: -1, MaxConns: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var rec recorded
	srv := &http.Server{Handler: rec.wrap(s.Handler())}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String()

	ctx := chrometest.New(t, 1100, 1000)
	shots := chrometest.ScreenshotDir(t)
	wait := func(what, js string) { t.Helper(); chrometest.WaitFor(t, ctx, what, js, 60*time.Second) }
	dl := t.TempDir()
	yes := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl, EventsEnabled: &yes,
	}); err != nil {
		t.Fatal(err)
	}

	chrometest.Do(t, ctx, "open the page", chromedp.Navigate(url+"/"))
	wait("the validator", `document.querySelector('#status').textContent.startsWith('Write, paste or drop')`)
	setValue := func(sel, value string) {
		t.Helper()
		chrometest.Eval[bool](t, ctx, `(() => { const e = document.querySelector(`+jsString(sel)+`); e.value = `+jsString(value)+`; e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change')); return true })()`)
	}
	keyOf := func(name string) string {
		return chrometest.Eval[string](t, ctx, `document.querySelector('tr.user[data-name="`+name+`"] .u-key').value`)
	}

	// Two users with key pairs made in the page.
	for i, name := range []string{"alice", "bob"} {
		chrometest.Do(t, ctx, "add a user", chromedp.Click(chromedp.CSS("#add-user")))
		wait("the new row", `document.querySelectorAll('tr.user').length === `+string(rune('1'+i)))
		setValue(`tr.user:last-child .u-name`, name)
		wait("the name", `document.querySelector('tr.user[data-name="`+name+`"]') !== null`)
		chrometest.Do(t, ctx, "generate "+name+"'s key pair", chromedp.Click(chromedp.CSS(`tr.user[data-name="`+name+`"] .u-generate`)))
		wait(name+"'s key", `document.querySelector('tr.user[data-name="`+name+`"] .u-save') !== null`)
		pub, err := seattlekey.ParsePublic(keyOf(name))
		if err != nil {
			t.Fatalf("%s's public key: %v", name, err)
		}
		if pub.N.BitLen() != 2048 {
			t.Errorf("%s's key has %d bits, want 2048", name, pub.N.BitLen())
		}
	}
	if keyOf("alice") == keyOf("bob") {
		t.Fatal("alice and bob got the same key")
	}
	// A third user from a .publickey file.
	carol := testKey(t).Public.String()
	carolFile := filepath.Join(t.TempDir(), "carol.publickey")
	os.WriteFile(carolFile, []byte(carol+"\n"), 0o644)
	chrometest.Do(t, ctx, "load carol.publickey", chromedp.SetUploadFiles(chromedp.CSS("#key-files"), []string{carolFile}))
	wait("carol", `document.querySelector('tr.user[data-name="carol"]') !== null`)
	if got := keyOf("carol"); got != carol {
		t.Errorf("carol's key %q, want the file's", got)
	}

	// Compose: one vessel for alice, split, the second for bob, carol a
	// user of the first.
	chrometest.Do(t, ctx, "open the form", chromedp.Click(chromedp.CSS("#compose-toggle")))
	wait("one vessel", `document.querySelectorAll('#vessel-forms fieldset').length === 1`)
	chrometest.Do(t, ctx, "split", chromedp.Click(chromedp.CSS(`#vessel-forms fieldset .split`)))
	wait("two vessels", `document.querySelectorAll('#vessel-forms fieldset').length === 2`)
	setValue(`#vessel-forms fieldset:nth-child(2) .f-owner`, "bob")
	wait("bob owns v2", `document.querySelector('#vessel-forms fieldset:nth-child(2) .f-owner').value === 'bob'`)
	chrometest.Do(t, ctx, "carol uses v1", chromedp.Click(chromedp.CSS(`#vessel-forms fieldset:nth-child(1) .f-users input[value="carol"]`)))
	want := "Percent 50\nOwner " + keyOf("alice") + "\nUser " + carol + "\nPercent 50\nOwner " + keyOf("bob") + "\n"
	wait("the composed text", `document.querySelector('#text').value === `+jsString(want))
	wait("valid", `!document.querySelector('#build').disabled`)
	if !chrometest.Eval[bool](t, ctx, `document.querySelector('tr.user[data-name="alice"] .u-remove').disabled`) {
		t.Error("alice can be removed while she owns a vessel")
	}
	chrometest.Screenshot(t, ctx, shots, "keys-1-composed")

	// Build asks for the private keys to be saved first.
	chrometest.Do(t, ctx, "press Build", chromedp.Click(chromedp.CSS("#build")))
	wait("the request to save", `document.querySelector('#build-status').textContent.startsWith('Save the private keys first')`)
	if c := s.Counters(); c.Posts != 0 {
		t.Errorf("%d uploads before the keys were saved", c.Posts)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	progress := chromedp.BrowserEvents(dctx, browser.DownloadProgress)
	chrometest.Do(t, ctx, "save all private keys", chromedp.Click(chromedp.CSS("#save-all-keys")))
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	zb, err := os.ReadFile(filepath.Join(dl, "seattle-keys.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatalf("seattle-keys.zip: %v", err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc) // checks the CRC-32
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		files[f.Name] = string(b)
	}
	var privates []string
	for _, name := range []string{"alice", "bob"} {
		pub, err1 := seattlekey.ParsePublic(files[name+".publickey"])
		priv, err2 := seattlekey.ParsePrivate(files[name+".privatekey"])
		if err1 != nil || err2 != nil || !seattlekey.Matches(pub, priv) || pub.String() != keyOf(name) {
			t.Errorf("%s in the zip: %v %v, or the pair does not match the page's key", name, err1, err2)
			continue
		}
		privates = append(privates, priv.D.String(), priv.P.String(), priv.Q.String())
	}
	if len(files) != 4 {
		t.Errorf("the zip holds %d files, want alice's and bob's two each", len(files))
	}

	chrometest.Do(t, ctx, "press Build", chromedp.Click(chromedp.CSS("#build")))
	wait("built", `document.querySelector('#build-status').textContent.startsWith('Built.')`)
	id := ID([]byte(want))
	var vi string
	for _, f := range readArchive(t, LinuxAMD64, httpGet(t, url+"/builds/"+id+"/linux-amd64")) {
		if f.name == "seattle/seattle_repy/vesselinfo" {
			vi = string(f.body)
		}
	}
	if vi != want {
		t.Errorf("the archive's vesselinfo:\n%s\nwant:\n%s", vi, want)
	}
	chrometest.Screenshot(t, ctx, shots, "keys-2-built")

	// A reload keeps the users, the text and the form; no private key.
	chrometest.Do(t, ctx, "reload", chromedp.Reload())
	wait("the restored form", `document.querySelectorAll('#vessel-forms fieldset').length === 2 && document.querySelector('#status').dataset.kind === 'good'`)
	if got := chrometest.Eval[string](t, ctx, `document.querySelector('#text').value`); got != want {
		t.Errorf("after a reload the text is %q", got)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		if keyOf(name) == "" {
			t.Errorf("after a reload %s has no key", name)
		}
	}
	if n := chrometest.Eval[int](t, ctx, `document.querySelectorAll('.u-save').length`); n != 0 {
		t.Errorf("after a reload %d private keys are offered: they must not be stored", n)
	}
	stored := chrometest.Eval[string](t, ctx, `JSON.stringify(localStorage)`)

	// The form's other moves. Merge: one vessel of 100% owned by alice
	// (the first's owner), with the users of both.
	chrometest.Do(t, ctx, "merge", chromedp.Click(chromedp.CSS(`#vessel-forms fieldset:nth-child(1) .merge`)))
	merged := "Percent 100\nOwner " + keyOf("alice") + "\nUser " + carol + "\n"
	wait("merged", `document.querySelector('#text').value === `+jsString(merged))
	if !chrometest.Eval[bool](t, ctx, `document.querySelector('#vessel-forms fieldset .remove').disabled`) {
		t.Error("the last vessel can be removed")
	}
	// Add: the new vessel's tenth comes from the largest, so the sum stays.
	chrometest.Do(t, ctx, "add a vessel", chromedp.Click(chromedp.CSS("#add-vessel")))
	wait("90 and 10", `document.querySelector('#text').value.startsWith('Percent 90\n') && document.querySelector('#text').value.includes('\nPercent 10\n')`)
	// Remove gives the share back.
	chrometest.Do(t, ctx, "remove v2", chromedp.Click(chromedp.CSS(`#vessel-forms fieldset:nth-child(2) .remove`)))
	wait("merged again", `document.querySelector('#text').value === `+jsString(merged))
	// The text leads too: an edit there redraws the form; while the text has
	// errors the form waits instead of overwriting it.
	setValue("#text", "Percent 70\nOwner "+keyOf("bob")+"\nPercent 30\nOwner "+keyOf("alice")+"\n")
	wait("the form follows the text", `document.querySelectorAll('#vessel-forms fieldset').length === 2 && document.querySelector('#vessel-forms fieldset .f-owner').value === 'bob'`)
	broken := "Percent 70\nOwner " + keyOf("bob") + "\nPercent 30\nOwner 9 3\n"
	setValue("#text", broken)
	wait("the form waits", `!document.querySelector('#composer-wait').hidden && document.querySelector('#vessel-forms fieldset').disabled`)
	if got := chrometest.Eval[string](t, ctx, `document.querySelector('#text').value`); got != broken {
		t.Errorf("the form overwrote the text being edited: %q", got)
	}
	chrometest.Screenshot(t, ctx, shots, "keys-3-waiting")

	// Stored state that is broken or hostile is ignored, not trusted.
	chrometest.Eval[bool](t, ctx, `localStorage.setItem('seattle-builder-page-v1', '{"text": 5, "users": [{"name": "<img src=x onerror=alert(1)>", "publicKey": "1 2"}, {"name": "ok_user", "publicKey": 7}], "composer": "yes"}'), true`)
	chrometest.Do(t, ctx, "reload", chromedp.Reload())
	wait("the page", `document.querySelector('#status').textContent.startsWith('Write, paste or drop')`)
	if n := chrometest.Eval[int](t, ctx, `document.querySelectorAll('tr.user').length`); n != 0 {
		t.Errorf("%d users restored from broken storage, want none", n)
	}
	chrometest.Eval[bool](t, ctx, `localStorage.setItem('seattle-builder-page-v1', 'not json'), true`)
	chrometest.Do(t, ctx, "reload", chromedp.Reload())
	wait("the page", `document.querySelector('#status').textContent.startsWith('Write, paste or drop')`)

	// No request, and nothing stored in the browser, holds a private key.
	reqs := rec.all()
	if len(reqs) < 5 {
		t.Fatalf("only %d requests recorded", len(reqs))
	}
	for _, p := range privates {
		for _, r := range reqs {
			if strings.Contains(r, p) {
				t.Errorf("a request carried a private key: %.120s", r)
			}
		}
		if strings.Contains(stored, p) {
			t.Error("localStorage holds a private key")
		}
	}
	var sawKeygen bool
	for _, r := range reqs {
		sawKeygen = sawKeygen || strings.Contains(r, "/assets/keygen.")
	}
	if !sawKeygen {
		t.Error("the key generator was never fetched: were the keys made here?")
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return b
}
