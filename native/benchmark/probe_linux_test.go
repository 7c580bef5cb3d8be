//go:build linux

package benchmark

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures under testdata/linux/NAME are the /proc and /sys files of a
// machine NAME describes; the probes read them through the path seam.
func fixture(name string) string { return filepath.Join("testdata", "linux", name) }

func TestCPUFromFixtures(t *testing.T) {
	for _, tc := range []struct {
		name, fixture string
		want          float64
		noteHas       string
	}{
		{"hyperthreads count once and a parent's fractional v2 quota caps", "v2", 1.5, "capped at 1.5 by the cgroup CPU quota (/sys/fs/cgroup/user.slice/user-1000.slice/cpu.max)"},
		{"v1 quota of a docker container below its affinity", "v1", 0.5, "2 physical cores among the 2 logical CPUs"},
		{"arm board without topology counts each processor, no quota", "hybrid", 4, "no cgroup CPU quota"},
		{"affinity to two hyperthreads of one core is one core", "affinity", 1, "1 physical cores among the 2 logical CPUs"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			got, note, err := probeCPU(context.Background(), fixture(tc.fixture))
			if err != nil {
				t.Fatalf("probeCPU: %v", err)
			}
			if got != tc.want {
				t.Errorf("cpu = %v, want %v (note %q)", got, tc.want, note)
			}
			if !strings.Contains(note, tc.noteHas) {
				t.Errorf("note %q lacks %q", note, tc.noteHas)
			}
		})
	}
}

func TestMemoryFromFixtures(t *testing.T) {
	for _, tc := range []struct {
		name, fixture string
		want          float64
		noteHas       string
	}{
		{"v2 memory.high of the cgroup below its parent's memory.max", "v2", 3000000000, "app.scope/memory.high"},
		{"v1 limit of a container far below the host", "v1", 2147483648, "/sys/fs/cgroup/memory/memory.limit_in_bytes"},
		{"v1 unlimited leaves MemTotal in kB times 1000", "hybrid", 3884096000, ""},
		{"no cgroups at all", "affinity", 8000000000, ""},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			got, note, err := probeMemory(context.Background(), fixture(tc.fixture))
			if err != nil {
				t.Fatalf("probeMemory: %v", err)
			}
			if got != tc.want {
				t.Errorf("memory = %v, want %v (note %q)", got, tc.want, note)
			}
			if tc.noteHas == "" && note != "" || !strings.Contains(note, tc.noteHas) {
				t.Errorf("note %q, want one with %q", note, tc.noteHas)
			}
		})
	}
}

func TestUnparsableLimitsFailTheProbe(t *testing.T) {
	// A limit that exists but cannot be read may be tight: the probe fails
	// (and the install falls back to the default) rather than ignore it.
	if _, _, err := probeCPU(context.Background(), fixture("broken")); err == nil || !strings.Contains(err.Error(), `cpu.max: cannot parse "lots 100000"`) {
		t.Errorf("probeCPU error = %v, want the unparsable cpu.max named", err)
	}
	if _, _, err := probeMemory(context.Background(), fixture("broken")); err == nil || !strings.Contains(err.Error(), `memory.max: cannot parse "-5"`) {
		t.Errorf("probeMemory error = %v, want the unparsable memory.max named", err)
	}
	if _, _, err := probeCPU(context.Background(), fixture("nonexistent")); err == nil || !strings.Contains(err.Error(), "cpuinfo") {
		t.Errorf("probeCPU on a missing /proc: %v, want an error naming cpuinfo", err)
	}
}

func TestFilesystemKind(t *testing.T) {
	for _, tc := range []struct {
		fixture, dir string
		want         string // in the note; "" = a plain disk, no note
	}{
		{"v2", "/tmp/seattle", "RAM-backed filesystem (tmpfs)"},
		{"v2", "/tmpfoo", ""},
		{"v2", "/home/donor", ""},
		{"v1", "/srv/seattle", "overlay filesystem"},
		{"v1", "/data/seattle", ""},
		{"v1", "/mnt/remote disk/x", "FUSE filesystem (fuse.sshfs)"},
	} {
		t.Run(tc.fixture+tc.dir, func(t *testing.T) {
			note, ok := filesystemKind(fixture(tc.fixture), tc.dir)
			if ok != (tc.want != "") || !strings.Contains(note, tc.want) {
				t.Errorf("filesystemKind(%s) = %q, %v; want %q", tc.dir, note, ok, tc.want)
			}
		})
	}
}
