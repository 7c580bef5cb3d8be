//go:build windows

package servicelog

import (
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// TestRefuseAttributes: whatever the handle opened without following
// turns out to be, only a plain file is used. This is the Windows check
// that TestLogRefusesSymlinks and TestLogRefusesJunctions exercise with
// real links; it is tested here with the attributes Windows reports too,
// because Wine, where these tests run here, cannot make links.
func TestRefuseAttributes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs uint32
		want  string // "" for accepted
	}{
		{"a plain file", windows.FILE_ATTRIBUTE_NORMAL, ""},
		{"an archived read-only file", windows.FILE_ATTRIBUTE_ARCHIVE | windows.FILE_ATTRIBUTE_READONLY, ""},
		{"a symbolic link to a file", windows.FILE_ATTRIBUTE_REPARSE_POINT | windows.FILE_ATTRIBUTE_ARCHIVE, "reparse point"},
		{"a junction", windows.FILE_ATTRIBUTE_REPARSE_POINT | windows.FILE_ATTRIBUTE_DIRECTORY, "reparse point"},
		{"a directory", windows.FILE_ATTRIBUTE_DIRECTORY, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refuseAttributes(`C:\seattle\installInfo.old`, tc.attrs)
			if tc.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `C:\seattle\installInfo.old`) {
				t.Errorf("error %v, want one naming the file and %q", err, tc.want)
			}
		})
	}
}
