//go:build windows

package linktest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"golang.org/x/sys/windows"
)

// Wine reports whether the program runs under Wine, and its version: Wine's
// ntdll.dll exports wine_get_version, which Windows's does not.
func Wine() (string, bool) {
	p := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if p.Find() != nil {
		return "", false
	}
	r, _, _ := p.Call()
	return windows.BytePtrToString((*byte)(unsafePointer(r))), true
}

func cannotLink(err error) string {
	if errors.Is(err, windows.ERROR_PRIVILEGE_NOT_HELD) {
		return "this Windows user may not make symbolic links (Developer Mode is off)"
	}
	return ""
}

// Junction makes link, a new directory, a junction (a mount point reparse
// point) to the directory target, as `mklink /J` does: any user may make
// one where they may make a directory. It checks that Lstat sees a reparse
// point (Go reports a junction as ModeIrregular, not as a directory). It
// skips the test under Wine 8.0, which has no reparse points: its
// FSCTL_SET_REPARSE_POINT fails with ERROR_NOT_SUPPORTED (and `mklink /J`
// there reports success and makes nothing).
func Junction(t testing.TB, target, link string) {
	t.Helper()
	if err := junction(target, link); err != nil {
		if v, ok := Wine(); ok && errors.Is(err, windows.ERROR_NOT_SUPPORTED) {
			os.Remove(link)
			t.Skipf("Wine %s has no reparse points, so no junctions (%v); on Windows the junction is made and this test runs", v, err)
		}
		t.Fatalf("make the junction %s: %v", link, err)
	}
	st, err := os.Lstat(link)
	if err != nil || st.Mode()&fs.ModeIrregular == 0 || st.IsDir() {
		t.Fatalf("the junction %s: Lstat gives %v, want an irregular file", link, describe(st, err))
	}
}

func junction(target, link string) error {
	if err := os.Mkdir(link, 0o755); err != nil {
		return err
	}
	p, err := windows.UTF16PtrFromString(link)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer windows.CloseHandle(h)
	b := mountPointBuffer(`\??\`+target, target)
	var n uint32
	if err := windows.DeviceIoControl(h, windows.FSCTL_SET_REPARSE_POINT, &b[0], uint32(len(b)), nil, 0, &n, nil); err != nil {
		return fmt.Errorf("FSCTL_SET_REPARSE_POINT: %w", err)
	}
	return nil
}

// mountPointBuffer is a REPARSE_DATA_BUFFER with a MountPointReparseBuffer:
// the tag, the data's length, a reserved word, then the offsets and lengths
// (in bytes) of the substitute name (the NT path) and the print name, and
// both names, each ending in a NUL.
func mountPointBuffer(substitute, print string) []byte {
	sub := windows.StringToUTF16(substitute) // with its NUL
	prn := windows.StringToUTF16(print)
	names := 2 * (len(sub) + len(prn))
	b := make([]byte, 16+names)
	le := binary.LittleEndian
	le.PutUint32(b[0:], windows.IO_REPARSE_TAG_MOUNT_POINT)
	le.PutUint16(b[4:], uint16(8+names))
	le.PutUint16(b[8:], 0)
	le.PutUint16(b[10:], uint16(2*(len(sub)-1)))
	le.PutUint16(b[12:], uint16(2*len(sub)))
	le.PutUint16(b[14:], uint16(2*(len(prn)-1)))
	off := 16
	for _, c := range append(sub, prn...) {
		le.PutUint16(b[off:], c)
		off += 2
	}
	return b
}
