package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/linktest"
)

// tree lists every path under dir (relative, "/" after directories) with
// the contents of files.
func tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func names(m map[string]string) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// install is a small install: the sample's vessels, a security layer
// directory with two files, and a log.
func testInstall(t testing.TB, dir string) Install {
	t.Helper()
	layer := filepath.Join(t.TempDir(), "layer")
	os.Mkdir(layer, 0o755)
	os.WriteFile(filepath.Join(layer, "encasementlib.r2py"), []byte("# security layer\n"), 0o644)
	os.WriteFile(filepath.Join(layer, "sshkey.r2py"), []byte("# another one\n"), 0o644)
	logPath := filepath.Join(dir, TempLogFile)
	if err := os.WriteFile(logPath, []byte("line one\nline two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return Install{Vessels: sampleVessels(), Restrictions: []byte("call sleep allow\n"), PrependDir: layer, LogText: []byte("line one\nline two\n"), LogEnd: "done\n"}
}

func TestWriteInstallsEverything(t *testing.T) {
	dir := t.TempDir()
	in := testInstall(t, dir)
	var fractions []float64
	w, err := Write(context.Background(), dir, in, func(f float64, _ string) { fractions = append(fractions, f) })
	if err != nil {
		t.Fatal(err)
	}
	got := tree(t, dir)
	want := []string{ManifestFile, ServiceLogFile, "resource.v1", "resource.v2", "resource.v3", "resource.v4",
		"v1/", "v1/encasementlib.r2py", "v1/sshkey.r2py", "v2/", "v2/encasementlib.r2py", "v2/sshkey.r2py",
		"v3/", "v3/encasementlib.r2py", "v3/sshkey.r2py", "v4/", "v4/encasementlib.r2py", "v4/sshkey.r2py", VesseldictFile}
	sort.Strings(want)
	if fmt.Sprint(names(got)) != fmt.Sprint(want) {
		t.Errorf("the directory holds\n%v\nwant\n%v", names(got), want)
	}
	// One service-log message: TIME:PID-N: and the whole install log.
	if !regexp.MustCompile(`^\d+\.\d+:PID-\d+:line one\nline two\ndone\n$`).MatchString(got[ServiceLogFile]) {
		t.Errorf("installInfo.old = %q", got[ServiceLogFile])
	}
	dict, _ := Vesseldict(in.Vessels)
	if got[VesseldictFile] != string(dict) {
		t.Error("vesseldict differs from Vesseldict()")
	}
	if got["v3/sshkey.r2py"] != "# another one\n" {
		t.Errorf("v3/sshkey.r2py = %q", got["v3/sshkey.r2py"])
	}
	if w.Files[len(w.Files)-1] != filepath.Join(dir, VesseldictFile) {
		t.Errorf("the last file moved into place is %s, want the vesseldict", w.Files[len(w.Files)-1])
	}
	for i := 1; i < len(fractions); i++ {
		if fractions[i] < fractions[i-1] || fractions[i] > 1 {
			t.Fatalf("progress goes %v", fractions)
		}
	}
	if ok, _ := Installed(dir); !ok {
		t.Error("Installed = false after Write")
	}
}

func TestWriteAppendsToAnExistingServiceLog(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ServiceLogFile), []byte("older entries\n"), 0o644)
	in := testInstall(t, dir)
	if _, err := Write(context.Background(), dir, in, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ServiceLogFile))
	if !regexp.MustCompile(`^older entries\n\d+\.\d+:PID-\d+:line one\nline two\ndone\n$`).MatchString(string(b)) {
		t.Errorf("installInfo.old = %q", b)
	}
	m, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if strings.Contains(string(m), "file "+ServiceLogFile) {
		t.Error("the manifest claims the service log, which existed before the install")
	}
}

func TestWriteRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(dir string)
		want    string
	}{
		{"already_installed", func(dir string) { os.WriteFile(filepath.Join(dir, VesseldictFile), []byte("{}"), 0o644) }, "already installed"},
		{"a_resource_file_in_the_way", func(dir string) { os.WriteFile(filepath.Join(dir, "resource.v2"), []byte("mine"), 0o644) }, "resource.v2"},
		{"a_vessel_directory_in_the_way", func(dir string) { os.Mkdir(filepath.Join(dir, "v4"), 0o755) }, "v4"},
		{"a_subdirectory_in_the_layer", nil, "not a regular file"},
		{"an_unfinished_uninstall", func(dir string) {
			os.WriteFile(filepath.Join(dir, ManifestFile), manifestText([]string{"file resource.v1"}), 0o644)
			os.WriteFile(filepath.Join(dir, "resource.v1"), []byte("left"), 0o644)
		}, "seattle-installer uninstall --dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := testInstall(t, dir)
			if tc.prepare != nil {
				tc.prepare(dir)
			} else {
				os.Mkdir(filepath.Join(in.PrependDir, "sub"), 0o755)
			}
			before := tree(t, dir)
			_, err := Write(context.Background(), dir, in, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if after := tree(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the directory changed:\nbefore %v\nafter  %v", names(before), names(after))
			}
		})
	}
}

func TestWriteCancelled(t *testing.T) {
	dir := t.TempDir()
	in := testInstall(t, dir)
	before := tree(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, dir, in, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if after := tree(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a cancelled write changed the directory: %v", names(after))
	}
}

// requireRoot stops a test that needs mounts or file attributes. The tests
// run as root in CI (and in this project's machines); elsewhere they say why
// they did not run.
func requireRoot(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("a full disk, a read-only file system and an immutable file are made with Linux's mount and chattr; the Linux run tests them")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs or set file attributes")
	}
}

func mount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %v: %v\n%s", args, err, out)
	}
}

func unmountLater(t *testing.T, dir string) {
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
}

// failedCleanly checks what every failed write must leave: the error names
// a path in dir, nothing looks installed, no staging or commit directory
// and none of the vessel files remain, and the log is untouched.
func failedCleanly(t *testing.T, dir string, err error, before map[string]string) {
	t.Helper()
	if err == nil {
		t.Fatal("Write succeeded")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("the error does not name a path in %s: %v", dir, err)
	}
	if after := tree(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the directory changed:\nbefore %v\nafter  %v", names(before), names(after))
	}
}

func TestWriteDiskFull(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	mount(t, "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir)
	unmountLater(t, dir)
	in := testInstall(t, dir)
	// Four copies of a 40 KiB security layer cannot fit in 64 KiB.
	os.WriteFile(filepath.Join(in.PrependDir, "big.r2py"), bytes.Repeat([]byte("x"), 40<<10), 0o644)
	before := tree(t, dir)
	_, err := Write(context.Background(), dir, in, nil)
	failedCleanly(t, dir, err, before)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("err = %v, want no space left on device", err)
	}
}

func TestWriteReadOnlyDirectory(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	in := testInstall(t, dir)
	before := tree(t, dir)
	mount(t, "--bind", dir, dir)
	unmountLater(t, dir)
	mount(t, "-o", "remount,bind,ro", dir)
	_, err := Write(context.Background(), dir, in, nil)
	failedCleanly(t, dir, err, before)
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("err = %v, want read-only file system", err)
	}
}

// chattr +i makes a file or directory immutable, which even root may not
// change: the permission denied that a root test can produce.
func immutable(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Fatalf("chattr +i %s: %v\n%s", path, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
}

func TestWritePermissionDenied(t *testing.T) {
	requireRoot(t)
	t.Run("immutable_directory", func(t *testing.T) {
		dir := t.TempDir()
		in := testInstall(t, dir)
		before := tree(t, dir)
		immutable(t, dir)
		_, err := Write(context.Background(), dir, in, nil)
		failedCleanly(t, dir, err, before)
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("err = %v, want a permission error", err)
		}
	})
	t.Run("immutable_service_log", func(t *testing.T) {
		dir := t.TempDir()
		in := testInstall(t, dir)
		os.WriteFile(filepath.Join(dir, ServiceLogFile), []byte("older\n"), 0o644)
		immutable(t, filepath.Join(dir, ServiceLogFile))
		before := tree(t, dir)
		_, err := Write(context.Background(), dir, in, nil)
		failedCleanly(t, dir, err, before)
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("err = %v, want a permission error", err)
		}
	})
}

func TestRecoverRefusesADamagedJournal(t *testing.T) {
	for _, journal := range []string{"", "resource.v1", "resource.v1\n../../etc\n", "resource.v1\n/etc\n"} {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, commitDir), 0o755)
		os.WriteFile(filepath.Join(dir, commitDir, journalFile), []byte(journal), 0o644)
		os.WriteFile(filepath.Join(dir, "resource.v1"), []byte("someone's"), 0o644)
		if _, err := Recover(dir); err == nil {
			t.Errorf("journal %q: no error", journal)
		}
		if _, err := os.Stat(filepath.Join(dir, "resource.v1")); err != nil {
			t.Errorf("journal %q: resource.v1 was removed", journal)
		}
	}
}

func TestUninstall(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "nmmain.py"), []byte("the node manager"), 0o644)
	in := testInstall(t, dir)
	if _, err := Write(context.Background(), dir, in, nil); err != nil {
		t.Fatal(err)
	}
	// What the node manager and the vessels add later is not the install's.
	os.WriteFile(filepath.Join(dir, "v2", "program.r2py"), []byte("uploaded"), 0o644)
	os.WriteFile(filepath.Join(dir, "resource.v5"), []byte("a split vessel"), 0o644)
	u, err := Uninstall(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := names(tree(t, dir))
	// The service log stays: it is the record of what happened here.
	want := []string{ServiceLogFile, "nmmain.py", "resource.v5", "v2/", "v2/program.r2py"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after uninstall the directory holds %v, want %v", got, want)
	}
	if len(u.Kept) != 1 || !strings.Contains(u.Kept[0], "v2") {
		t.Errorf("kept = %v, want v2 reported", u.Kept)
	}
	if u.Removed[0] != filepath.Join(dir, VesseldictFile) {
		t.Errorf("the vesseldict was not removed first: %v", u.Removed)
	}
	if _, err := Uninstall(dir); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("a second uninstall: err = %v, want ErrNotInstalled", err)
	}
}

// TestUninstallDoesNotFollowLinks: another user who can write the install
// directory replaces a vessel directory by a link to a directory of
// someone else's; uninstall removes nothing in it. On Windows the link
// may be a junction, which any user may make.
func TestUninstallDoesNotFollowLinks(t *testing.T) {
	for _, tc := range []struct {
		name string
		link func(t testing.TB, target, link string)
	}{
		{"a_symbolic_link", linktest.Symlink},
		{"a_junction", linktest.Junction},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, victim := t.TempDir(), t.TempDir()
			if _, err := Write(context.Background(), dir, testInstall(t, dir), nil); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"encasementlib.r2py", "sshkey.r2py"} {
				os.WriteFile(filepath.Join(victim, name), []byte("someone else's"), 0o644)
			}
			if err := os.RemoveAll(filepath.Join(dir, "v1")); err != nil {
				t.Fatal(err)
			}
			tc.link(t, victim, filepath.Join(dir, "v1"))
			u, err := Uninstall(dir)
			if got := tree(t, victim); len(got) != 2 || got["encasementlib.r2py"] != "someone else's" || got["sshkey.r2py"] != "someone else's" {
				t.Errorf("the link's target now holds %v", got)
			}
			if !errors.Is(err, ErrKeptLinks) {
				t.Fatalf("Uninstall: %v, want ErrKeptLinks", err)
			}
			if kept := strings.Join(u.Kept, "\n"); !strings.Contains(kept, "v1/encasementlib.r2py: v1 ") || !strings.Contains(kept, "v1: it ") {
				t.Errorf("kept:\n%s\nwant the files under v1 and v1 itself", kept)
			}
		})
	}
}

func TestUninstallRefuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		manifest string
		want     string
	}{
		{"not_our_header", "file resource.v1\n", "header"},
		{"a_path_outside", manifestHeader + "\nfile ../outside\n", "not a path inside"},
		{"an_absolute_path", manifestHeader + "\nfile /etc/passwd\n", "not a path inside"},
		{"an_unclean_path", manifestHeader + "\nfile v1/../../outside\n", "not a path inside"},
		{"a_strange_line", manifestHeader + "\nremove everything\n", "not a \"file NAME\""},
		{"oversized", manifestHeader + "\n" + strings.Repeat("file x\n", maxManifest/7+1), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "node")
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(root, "outside"), []byte("keep me"), 0o644)
			os.WriteFile(filepath.Join(dir, "resource.v1"), []byte("keep me too"), 0o644)
			os.WriteFile(filepath.Join(dir, ManifestFile), []byte(tc.manifest), 0o644)
			_, err := Uninstall(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			for _, p := range []string{filepath.Join(root, "outside"), filepath.Join(dir, "resource.v1")} {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s was removed", p)
				}
			}
		})
	}
	t.Run("a_vesseldict_without_manifest", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, VesseldictFile), []byte("{}"), 0o644)
		if _, err := Uninstall(dir); err == nil || !strings.Contains(err.Error(), "not installed by this installer") {
			t.Fatalf("err = %v", err)
		}
		if ok, _ := Installed(dir); !ok {
			t.Error("the vesseldict was removed")
		}
	})
}

// BenchmarkWrite10Vessels writes the state of ten vessels (resource files,
// directories, vesseldict, log) into a fresh directory, synced: the cost
// of the install without the benchmark.
func BenchmarkWrite10Vessels(b *testing.B) {
	root := b.TempDir()
	base := sampleVessels()[1]
	var vs []Vessel
	for i := 0; i < 10; i++ {
		v := base
		v.Name = fmt.Sprintf("v%d", i+1)
		v.Ports = []int{63100 + 10*i}
		vs = append(vs, v)
	}
	restrictions, _ := os.ReadFile("../assets/vessel.restrictions")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(root, fmt.Sprint(i))
		os.Mkdir(dir, 0o755)
		if _, err := Write(context.Background(), dir, Install{Vessels: vs, Restrictions: restrictions}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	shipped := []byte("{'seattle_installed': False}\n")
	offcut := []byte("resource cpu .002\n")
	files := func() []File {
		return []File{
			{Name: "nodeman.cfg", Data: []byte("{'seattle_installed': True, 'privatekey': 'secret'}\n"), Mode: 0o600, Replace: true},
			{Name: "resources.offcut", Data: offcut, SameOK: true},
			{Name: ".seattle-installer.node", Data: []byte("{}\n")},
		}
	}
	t.Run("replaces_nodeman_cfg_0600_and_lists_only_what_it_created", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "nodeman.cfg"), shipped, 0o644)
		os.WriteFile(filepath.Join(dir, "resources.offcut"), offcut, 0o644)
		in := testInstall(t, dir)
		in.Files = files()
		if _, err := Write(context.Background(), dir, in, nil); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, "nodeman.cfg"))
		if err != nil || st.Mode().Perm() != privateMode {
			t.Errorf("nodeman.cfg: %v, mode %v, want %v", err, st.Mode(), privateMode)
		}
		m, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
		for line, want := range map[string]bool{"file nodeman.cfg": false, "file resources.offcut": false, "file .seattle-installer.node": true, "file " + ServiceLogFile: false} {
			if strings.Contains(string(m), line+"\n") != want {
				t.Errorf("manifest lists %q: %v, want %v", line, !want, want)
			}
		}
	})
	t.Run("an_undo_restores_the_shipped_nodeman_cfg", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "nodeman.cfg"), shipped, 0o644)
		before := tree(t, dir)
		in := testInstall(t, dir)
		before[TempLogFile] = tree(t, dir)[TempLogFile]
		in.Files = files()
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Write(ctx, dir, in, func(_ float64, detail string) {
			if detail == "moved nodeman.cfg into place" {
				cancel()
			}
		})
		if err == nil {
			t.Fatal("Write went on after the cancel")
		}
		if got := tree(t, dir); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Errorf("after the undo the directory holds %v, want %v", names(got), names(before))
		}
	})
	t.Run("a_different_offcut_is_a_clash", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "resources.offcut"), []byte("someone else's"), 0o644)
		in := testInstall(t, dir)
		in.Files = files()
		if _, err := Write(context.Background(), dir, in, nil); err == nil || !strings.Contains(err.Error(), "resources.offcut") {
			t.Errorf("Write: %v", err)
		}
	})
	t.Run("a_hostile_name", func(t *testing.T) {
		dir := t.TempDir()
		in := testInstall(t, dir)
		in.Files = []File{{Name: "../escape", Data: []byte("x")}}
		if _, err := Write(context.Background(), dir, in, nil); err == nil {
			t.Error("wrote ../escape")
		}
	})
}
