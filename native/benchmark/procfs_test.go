package benchmark

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in    string
		count int
		err   string
	}{
		{"0-3", 4, ""},
		{"0-3,8,10-11\n", 7, ""},
		{"5", 1, ""},
		{"", 0, "empty CPU list"},
		{"3-1", 0, "bad CPU list"},
		{"a-b", 0, "bad CPU list"},
		{"-1", 0, "bad CPU list"},
		{"0-99999999", 0, "implausibly long"},
		{"0,,1", 0, "bad CPU list"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			set, err := parseCPUList(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(set) != tc.count {
				t.Fatalf("got %d CPUs, %v; want %d", len(set), err, tc.count)
			}
		})
	}
}

func TestParseCPUInfo(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		cores    int
		err      string
	}{
		{"two threads of one core", "processor : 0\nphysical id : 0\ncore id : 0\n\nprocessor : 1\nphysical id : 0\ncore id : 0\n", 1, ""},
		{"two sockets same core ids", "processor : 0\nphysical id : 0\ncore id : 0\n\nprocessor : 1\nphysical id : 1\ncore id : 0\n", 2, ""},
		{"no topology", "processor : 0\n\nprocessor : 1\n", 2, ""},
		{"no processors", "model name : x\n", 0, "no processors"},
		{"bad processor number", "processor : ARMv7\n", 0, "bad processor number"},
		{"negative processor number", "processor : -4\n", 0, "bad processor number"},
		{"empty", "", 0, "no processors"},
		{"binary garbage", "\x00\xff\xfe:\x01\n\x00", 0, "no processors"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			m, err := parseCPUInfo([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := physicalCores(m, nil); got != tc.cores {
				t.Errorf("cores = %d, want %d", got, tc.cores)
			}
		})
	}
}

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  string
	}{
		{"MemTotal:       24684084 kB\nMemFree: 1 kB\n", 24684084000, ""},
		{"MemFree: 1 kB\n", 0, "no MemTotal"},
		{"MemTotal: 12 MB\n", 0, "not \"N kB\""},
		{"MemTotal: lots kB\n", 0, "bad MemTotal"},
		{"MemTotal: 0 kB\n", 0, "bad MemTotal"},
		{"MemTotal: 99999999999999999999 kB\n", 0, "bad MemTotal"},
		{"MemTotal: -5 kB\n", 0, "bad MemTotal"},
	} {
		t.Run(strings.Fields(tc.in)[1], func(t *testing.T) {
			got, err := parseMemTotal([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(string) (float64, error)
		in   string
		want float64 // 0 = no limit
		bad  bool
	}{
		{"cpu.max none", parseCPUMax, "max 100000", 0, false},
		{"cpu.max one and a half", parseCPUMax, "150000 100000", 1.5, false},
		{"cpu.max a fifth", parseCPUMax, "20000 100000", 0.2, false},
		{"cpu.max quota only", parseCPUMax, "50000", 0.5, false},
		{"cpu.max zero period", parseCPUMax, "50000 0", 0, true},
		{"cpu.max zero quota", parseCPUMax, "0 100000", 0, true},
		{"cpu.max words", parseCPUMax, "a b c", 0, true},
		{"cpu.max empty", parseCPUMax, "", 0, true},
		{"memory max", parseMemLimit, "max", 0, false},
		{"memory bytes", parseMemLimit, "4294967296", 4294967296, false},
		{"memory v1 unlimited", parseMemLimit, "9223372036854771712", 0, false},
		{"memory negative", parseMemLimit, "-1", 0, true},
		{"memory zero", parseMemLimit, "0", 0, true},
		{"memory with unit", parseMemLimit, "4G", 0, true},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			got, err := tc.f(tc.in)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("got %v, %v; want %v, error %v", got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestParseUlimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"1024\n", 1024, ""},
		{"  20000  ", 20000, ""},
		{"unlimited\n", 0, "unlimited"},
		{"0\n", 0, "not a positive number"},
		{"sh: ulimit: bad option\n", 0, "not a positive number"},
		{"", 0, "not a positive number"},
		{strings.Repeat("9", 5000), 0, "..."},
	} {
		t.Run(truncate(tc.in, 12), func(t *testing.T) {
			got, err := parseUlimit(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseMountInfoAndCgroupFiles(t *testing.T) {
	for _, tc := range []struct {
		name, cgroup, mountinfo, err string
	}{
		{"cgroup line without path", "0::\n", "", "/proc/self/cgroup: bad line"},
		{"cgroup relative path", "0::app\n", "", "/proc/self/cgroup: bad line"},
		{"cgroup garbage", "\x00\x01\x02", "", "/proc/self/cgroup: bad line"},
		{"mountinfo without separator", "0::/\n", "1 2 0:1 / / rw shared:1 ext4 /dev/x rw\n", "mountinfo: bad line"},
		{"mountinfo too short", "0::/\n", "1 2 3\n", "mountinfo: bad line"},
		{"mountinfo empty", "0::/\n", "", "mountinfo lists no mounts"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "proc/self/cgroup", tc.cgroup)
			write(t, root, "proc/self/mountinfo", tc.mountinfo)
			_, err := readCgroupLimits(root)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestOversizedProcFileIsRefused(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/cpuinfo", strings.Repeat("processor : 0\n", maxProcFile/14+10))
	_, err := readSys(root, "/proc/cpuinfo")
	if err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Fatalf("err = %v, want the size limit", err)
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/a\040b`: "/mnt/a b",
		`/x\011y`:     "/x\ty",
		`/plain`:      "/plain",
		`/trailing\`:  `/trailing\`,
		`/short\04`:   `/short\04`,
		`/bad\999`:    `/bad\999`,
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCgroupDirsWalkAncestorsInsideTheMount(t *testing.T) {
	member := []cgroupMembership{{[]string{"memory"}, "/docker/abc/inner"}, {nil, "/a/b"}}
	mounts := []mount{
		{root: "/docker/abc", point: "/sys/fs/cgroup/memory", fstype: "cgroup", superOpts: []string{"rw", "memory"}},
		{root: "/", point: "/sys/fs/cgroup", fstype: "cgroup2"},
	}
	if got, want := strings.Join(cgroupDirs(member, mounts, "memory"), " "), "/sys/fs/cgroup/memory/inner /sys/fs/cgroup/memory"; got != want {
		t.Errorf("v1 dirs = %q, want %q", got, want)
	}
	if got, want := strings.Join(cgroupDirs(member, mounts, ""), " "), "/sys/fs/cgroup/a/b /sys/fs/cgroup/a /sys/fs/cgroup"; got != want {
		t.Errorf("v2 dirs = %q, want %q", got, want)
	}
	if got := cgroupDirs(member, mounts, "cpu"); got != nil {
		t.Errorf("cpu dirs = %q, want none (no such hierarchy)", got)
	}
}

func write(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
