package ui

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestOpenTheLogAndTheFolder: after an install, Open the log and Open the
// folder hand the log and the install directory to the desktop (xdg-open;
// here a stand-in on PATH that writes down what it was given).
func TestOpenTheLogAndTheFolder(t *testing.T) {
	bin := t.TempDir()
	opened := filepath.Join(t.TempDir(), "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> " + opened + "\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	opts := options(t, false)
	srv, done, _ := windowSession(t, opts)
	p := connectPage(t, srv)
	reviewOf(t, p)
	p.send(`{"type":"start","percent":10}`)
	msgs := p.until("result")
	logPath := msgs[len(msgs)-1].Log
	if !strings.HasPrefix(logPath, opts.Dir) {
		t.Fatalf("the result names the log %q", logPath)
	}
	p.send(`{"type":"act","action":"open-log"}`)
	p.send(`{"type":"act","action":"open-folder"}`)
	// Each opener runs on its own (the desktop may take its time), so the
	// two may write down their paths in either order.
	want := []string{opts.Dir, logPath}
	sort.Strings(want)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(opened)
		got := strings.Fields(string(b))
		sort.Strings(got)
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the desktop was asked to open %q, want %q", b, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.send(`{"type":"act","action":"close"}`)
	if o := wait(t, done); o.err != nil || !o.res.OK {
		t.Errorf("session %+v %v", o.res, o.err)
	}
}
