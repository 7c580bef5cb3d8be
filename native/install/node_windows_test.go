//go:build windows

package install

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/startup"
	"github.com/seattletestbed/seattle-installer/native/state"
)

// fakeRegistry is HKCU's Run key in memory: the test does not change the
// registry of the machine (or Wine prefix) it runs on.
type fakeRegistry struct{ values map[string]string }

func (f *fakeRegistry) SetRunValue(name, data string) error { f.values[name] = data; return nil }
func (f *fakeRegistry) DeleteRunValue(name string) error    { delete(f.values, name); return nil }

// TestRunFinishesTheNodeOnWindows: the Windows way of TestRunFinishesTheNode.
// The install registers start_seattle.bat in the Run key and starts it (a
// real cmd.exe with a child that stays up); uninstall stops both and
// removes the value.
func TestRunFinishesTheNodeOnWindows(t *testing.T) {
	reg := &fakeRegistry{values: map[string]string{}}
	old := localSystem
	localSystem = func() *startup.System {
		s := old()
		s.Registry = reg
		return s
	}
	t.Cleanup(func() { localSystem = old })
	dir := t.TempDir()
	// ping stands for the node: a program the script starts and waits for.
	script := "@echo off\r\necho ran> ran\r\nping -n 300 127.0.0.1 >nul\r\n"
	os.WriteFile(filepath.Join(dir, "start_seattle.bat"), []byte(script), 0o755)
	o := opts(dir)
	o.AssetsDir = dir
	o.KeyBits = 1024
	_, summary := runningNode(t, o, nil)
	if !strings.Contains(summary, "The node is running (pid ") {
		t.Errorf("summary:\n%s", summary)
	}
	id := startup.ID(dir)
	if v := reg.values[id]; v != `"`+filepath.Join(dir, "start_seattle.bat")+`"` {
		t.Errorf("Run values %v, want %s = the quoted start script", reg.values, id)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
			break
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err != nil {
		t.Errorf("the start script did not run: %v", err)
	}
	rec, err := startup.ReadRecord(dir)
	if err != nil || rec.Started == nil || rec.Started.Since == "" {
		t.Fatalf("the record: %+v, %v; want the process with its start time", rec, err)
	}
	if !startup.Running(*rec.Started) {
		t.Fatal("the node as recorded is not running")
	}

	done, err := TakeBack(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(done, "; "); !strings.Contains(got, "stopped the node (pid") || !strings.Contains(got, "removed the start at boot") {
		t.Errorf("TakeBack: %s", got)
	}
	if startup.Running(*rec.Started) {
		t.Error("the node still runs")
	}
	if len(reg.values) != 0 {
		t.Errorf("Run values after: %v", reg.values)
	}
	if _, err := state.Uninstall(dir); err != nil {
		t.Fatal(err)
	}
}
