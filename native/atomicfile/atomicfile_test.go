package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "file")
	if err := WriteFile(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "one" {
		t.Fatalf("after the first write: %q %v", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != privateMode {
		t.Errorf("mode %v, want %v", st.Mode().Perm(), privateMode)
	}

	t.Run("a failed write leaves the old file and no temporary", func(t *testing.T) {
		boom := errors.New("disk full")
		err := Write(path, 0o644, func(f *os.File) error {
			f.WriteString("half of tw")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("error %v, want it to wrap %v", err, boom)
		}
		if b, _ := os.ReadFile(path); string(b) != "one" {
			t.Errorf("the old file became %q", b)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("folder holds %d entries, want only the file", len(entries))
		}
	})

	t.Run("a temporary name is recognised", func(t *testing.T) {
		var tmp string
		Write(path, 0o644, func(f *os.File) error {
			tmp = filepath.Base(f.Name())
			return errors.New("stop")
		})
		if !IsTemp(tmp) {
			t.Errorf("IsTemp(%q) is false", tmp)
		}
		for _, name := range []string{"file", "vesselinfo", "linux-amd64.tar.gz", ".hidden"} {
			if IsTemp(name) {
				t.Errorf("IsTemp(%q) is true", name)
			}
		}
	})
}

// TestWriteReadOnly: a mode without write permission is kept (on Windows
// as the read-only attribute, the one permission a Windows file has).
func TestWriteReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := WriteFile(path, []byte("one"), 0o444); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o444 {
		t.Errorf("mode %v, want 0444", st.Mode().Perm())
	}
}
