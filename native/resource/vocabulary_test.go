package resource

import (
	"strings"
	"testing"
)

func TestEveryResourceHasWords(t *testing.T) {
	labels := map[string]Name{}
	for _, n := range All {
		info := Describe(n)
		if info.Name != n || info.Label == "" || info.Explain == "" || info.Unit == "" || info.Kind == "" {
			t.Errorf("%s has incomplete words: %+v", n, info)
		}
		if other, dup := labels[info.Label]; dup {
			t.Errorf("%s and %s share the label %q", n, other, info.Label)
		}
		labels[info.Label] = n
		if len(info.Label) > 20 {
			t.Errorf("%s: label %q is longer than a table column allows (20)", n, info.Label)
		}
		// The node manager's names (diskused, looprecv) mean nothing to a
		// donor; cpu and memory are words too, so only the others count.
		if !strings.HasSuffix(info.Explain, ".") || (n != CPU && n != Memory && n != Random && n != Events && strings.Contains(strings.ToLower(info.Explain+info.Label), string(n))) {
			t.Errorf("%s: explanation %q is not a sentence in words", n, info.Explain)
		}
	}
	if got := Vocabulary(); len(got) != len(All) || got[0].Name != CPU || got[len(got)-1].Name != LoopRecv {
		t.Errorf("Vocabulary() is not in the order of All: %v", got)
	}
	if Describe("nonsense").Label != "nonsense" {
		t.Error("an unknown name does not label itself")
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		n    Name
		v    float64
		want string
	}{
		{CPU, 0.15680000000000002, "0.157 cores"},
		{CPU, 1, "1 core"},
		{CPU, 2, "2 cores"},
		{CPU, 0.0004, "0.0004 cores"},
		{Memory, 2500000000, "2.5 GB"},
		{Memory, 318400000, "318 MB"},
		{DiskUsed, 7800000000, "7.8 GB"},
		{DiskUsed, 999, "999 bytes"},
		{DiskUsed, 999.6, "1 kB"},
		{DiskUsed, 1, "1 byte"},
		{DiskUsed, 0, "0 bytes"},
		{DiskUsed, 1999840000, "2 GB"},
		{Random, 3200000, "3.2 MB/s"},
		{NetRecv, 20000, "20 kB/s"},
		{Events, 196, "196 threads"},
		{FilesOpened, 1, "1 file"},
		{InSockets, 1000, "1,000 connections"},
		{OutSockets, 1234567, "1,234,567 connections"},
		{OutSockets, -1234, "-1,234 connections"},
	} {
		if got := Format(tc.n, tc.v); got != tc.want {
			t.Errorf("Format(%s, %v) = %q, want %q", tc.n, tc.v, got, tc.want)
		}
	}
}

func TestPhraseAndHeadline(t *testing.T) {
	got := Headline(Values{CPU: 0.2, Memory: 2.5e9, DiskUsed: 7.8e9})
	if want := "0.2 of a processor core, 2.5 GB of memory and 7.8 GB of disk space"; got != want {
		t.Errorf("Headline = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		n    Name
		v    float64
		want string
	}{
		{CPU, 1, "1 processor core"},
		{CPU, 1.5, "1.5 processor cores"},
		{LoopSend, 5e6, "5 MB/s of loopback send"},
		{Events, 500, "500 threads"},
	} {
		if got := Phrase(tc.n, tc.v); got != tc.want {
			t.Errorf("Phrase(%s, %v) = %q, want %q", tc.n, tc.v, got, tc.want)
		}
	}
}
