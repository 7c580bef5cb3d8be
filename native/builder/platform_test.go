package builder

import (
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	id := ID([]byte(sample))
	for _, tc := range []struct {
		name, text string
		same       bool
	}{
		{"same text", sample, true},
		{"CRLF line ends", strings.ReplaceAll(sample, "\n", "\r\n"), true},
		{"byte-order mark", "\ufeff" + sample, true},
		{"mixed line ends", strings.Replace(sample, "\n", "\r\n", 2), true},
		{"no final newline", strings.TrimSuffix(sample, "\n"), false},
		{"another key", strings.Replace(sample, "Owner 3456789123", "Owner 3456789124", 1), false},
		{"lone CR kept", strings.Replace(sample, "\n", "\r", 1), false},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			got := ID([]byte(tc.text))
			if (got == id) != tc.same {
				t.Errorf("ID %s, sample's %s: same = %v, want %v", got, id, got == id, tc.same)
			}
			if !validID(got) {
				t.Errorf("ID %q is not a valid ID", got)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	good := strings.Repeat("0123456789abcdef", 2)
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{good, true},
		{strings.ToUpper(good), false},
		{good[:IDLen-1], false},
		{good + "0", false},
		{"", false},
		{"..", false},
		{"../" + good[3:], false},
		{good[:IDLen-1] + "/", false},
		{good[:IDLen-1] + "g", false},
		{good[:IDLen-2] + "é", false},
	} {
		if got := validID(tc.id); got != tc.ok {
			t.Errorf("validID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
	}
}

func TestPlatforms(t *testing.T) {
	for _, tc := range []struct {
		p          Platform
		os, ext    string
		base, name string
	}{
		{LinuxAMD64, "linux", ".tar.gz", "seattle-installer-linux-amd64", "seattle-installer-linux-amd64-0123456789ab.tar.gz"},
		{DarwinARM64, "darwin", ".tar.gz", "seattle-installer-darwin-arm64", "seattle-installer-darwin-arm64-0123456789ab.tar.gz"},
		{WindowsAMD64, "windows", ".zip", "seattle-installer-windows-amd64.exe", "seattle-installer-windows-amd64-0123456789ab.zip"},
	} {
		id := strings.Repeat("0123456789abcdef", 2)
		if tc.p.OS() != tc.os || tc.p.ArchiveExt() != tc.ext || BaseName(tc.p) != tc.base || ArchiveName(id, tc.p) != tc.name || !tc.p.Known() {
			t.Errorf("%s: OS %q ext %q base %q archive %q", tc.p, tc.p.OS(), tc.p.ArchiveExt(), BaseName(tc.p), ArchiveName(id, tc.p))
		}
	}
	if Platform("plan9-amd64").Known() {
		t.Error("plan9-amd64 is known")
	}
}
