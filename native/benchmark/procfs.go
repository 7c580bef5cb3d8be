package benchmark

// Parsers of Linux's /proc and /sys text. They read through a root directory
// (the path seam, like gopsutil's HOST_PROC) so tests feed them fixtures under
// testdata/linux/..., and they carry no build tag so those tests run on every
// OS; only probe_linux.go calls them for real.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// maxProcFile bounds what one /proc or /sys file may cost: these files are a
// few KiB, and a broken or hostile fixture must not exhaust memory.
const maxProcFile = 4 << 20

// readSys reads the file at the absolute system path p under root.
func readSys(root, p string) ([]byte, error) {
	full := filepath.Join(root, filepath.FromSlash(p))
	f, err := os.Open(full)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProcFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", full, err)
	}
	if len(b) > maxProcFile {
		return nil, fmt.Errorf("read %s: larger than %d MiB", full, maxProcFile>>20)
	}
	return b, nil
}

// parseCPUInfo counts physical cores the way Seattle's Linux_resources.py did
// (processors sharing a "physical id" and "core id" are one core, so
// hyperthreads do not count twice), but per logical CPU so the count can be
// restricted to the CPUs this process may run on. It returns, for each
// "processor N" in the file, a key of its physical core.
func parseCPUInfo(b []byte) (map[int]string, error) {
	cores := map[int]string{}
	cur := -1
	var phys, core string
	flush := func() {
		if cur < 0 {
			return
		}
		if phys == "" && core == "" {
			// No topology (many ARM boards): each processor is a core;
			// ARM cores are not hyperthreaded.
			cores[cur] = "cpu" + strconv.Itoa(cur)
		} else {
			cores[cur] = phys + "/" + core
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), maxProcFile)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "processor":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				// ARM's old header line "Processor : ARMv7 ..." is
				// capitalised, so a bad value here is a broken file.
				return nil, fmt.Errorf("cpuinfo: bad processor number %q", truncate(val, 20))
			}
			flush()
			cur, phys, core = n, "", ""
		case "physical id":
			phys = val
		case "core id":
			core = val
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cpuinfo: %w", err)
	}
	flush()
	if len(cores) == 0 {
		return nil, errors.New("cpuinfo lists no processors")
	}
	return cores, nil
}

// parseCPUList parses a kernel CPU list such as "0-3,8,10-11".
func parseCPUList(s string) (map[int]bool, error) {
	s = strings.TrimSpace(s)
	set := map[int]bool{}
	if s == "" {
		return nil, errors.New("empty CPU list")
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad CPU list %q", truncate(s, 40))
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", truncate(s, 40))
			}
		}
		if b-a > 1<<16 {
			return nil, fmt.Errorf("CPU list %q is implausibly long", truncate(s, 40))
		}
		for i := a; i <= b; i++ {
			set[i] = true
		}
	}
	return set, nil
}

// statusField returns a field of /proc/self/status, e.g. "Cpus_allowed_list".
func statusField(b []byte, name string) (string, bool) {
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && k == name {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// physicalCores counts the physical cores among the allowed logical CPUs.
func physicalCores(cpuinfo map[int]string, allowed map[int]bool) int {
	seen := map[string]bool{}
	for cpu, core := range cpuinfo {
		if allowed == nil || allowed[cpu] {
			seen[core] = true
		}
	}
	return len(seen)
}

// parseMemTotal returns MemTotal of /proc/meminfo in bytes, counting a "kB"
// as 1000 bytes as the original did: that undercounts by 2.4%, on the
// conservative side.
func parseMemTotal(b []byte) (float64, error) {
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("meminfo: MemTotal line %q is not \"N kB\"", truncate(line, 60))
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || kb == 0 || kb > math.MaxUint64/1000 {
			return 0, fmt.Errorf("meminfo: bad MemTotal %q", truncate(f[0], 30))
		}
		return float64(kb * 1000), nil
	}
	return 0, errors.New("meminfo has no MemTotal line")
}

// cgroupMembership is one line of /proc/self/cgroup: the hierarchy's
// controllers (empty for cgroup v2) and the process's path in it.
type cgroupMembership struct {
	controllers []string
	path        string
}

func parseProcCgroup(b []byte) ([]cgroupMembership, error) {
	var out []cgroupMembership
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 || !strings.HasPrefix(f[2], "/") {
			return nil, fmt.Errorf("/proc/self/cgroup: bad line %q", truncate(line, 60))
		}
		var ctl []string
		if f[1] != "" {
			ctl = strings.Split(f[1], ",")
		}
		out = append(out, cgroupMembership{ctl, path.Clean(f[2])})
	}
	return out, nil
}

// mount is one line of /proc/self/mountinfo.
type mount struct {
	root, point, fstype, source string
	superOpts                   []string
}

// parseMountInfo parses /proc/self/mountinfo (proc(5)): fields 4 and 5 are the
// mount's root and mount point, then optional fields up to "-", then the
// filesystem type, source and super options.
func parseMountInfo(b []byte) ([]mount, error) {
	var out []mount
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 6 || sep < 0 || sep+3 > len(f) {
			return nil, fmt.Errorf("mountinfo: bad line %q", truncate(line, 80))
		}
		m := mount{root: unescapeMount(f[3]), point: unescapeMount(f[4]), fstype: f[sep+1], source: f[sep+2]}
		if sep+3 < len(f) {
			m.superOpts = strings.Split(f[sep+3], ",")
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("mountinfo lists no mounts")
	}
	return out, nil
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupDirs returns, for the hierarchy that holds controller (or cgroup v2
// when controller is ""), the process's cgroup directory and each ancestor
// visible through the mount, innermost first, as absolute system paths.
func cgroupDirs(member []cgroupMembership, mounts []mount, controller string) []string {
	var cgPath string
	found := false
	for _, m := range member {
		if controller == "" && len(m.controllers) == 0 {
			cgPath, found = m.path, true
		}
		for _, c := range m.controllers {
			if c == controller {
				cgPath, found = m.path, true
			}
		}
	}
	if !found {
		return nil
	}
	for _, mt := range mounts {
		if controller == "" && mt.fstype != "cgroup2" {
			continue
		}
		if controller != "" && (mt.fstype != "cgroup" || !contains(mt.superOpts, controller)) {
			continue
		}
		// The mount shows the hierarchy from mt.root down; with a cgroup
		// namespace or a bind mount the process's path is relative to it.
		rel, ok := relPath(mt.root, cgPath)
		if !ok {
			rel = "/" // our cgroup is outside this mount: only its top is visible
		}
		var dirs []string
		for {
			dirs = append(dirs, path.Join(mt.point, rel))
			if rel == "/" {
				break
			}
			rel = path.Dir(rel)
		}
		return dirs
	}
	return nil
}

func relPath(root, p string) (string, bool) {
	root = path.Clean(root)
	if root == "/" {
		return p, true
	}
	if p == root {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(p, root+"/"); ok {
		return "/" + rest, true
	}
	return "", false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cgroupLimits are the tightest limits found over a cgroup and its ancestors.
type cgroupLimits struct {
	cpu      float64 // CPUs of quota; 0 = no quota
	cpuWhere string  // the file that set it
	mem      float64 // bytes; 0 = no limit
	memWhere string
	// Limit files that exist but could not be read or parsed: a limit we
	// cannot read may be tight, so the probe fails rather than ignore it.
	badCPU, badMem []string
}

// readCgroupLimits reads the CPU quota and memory limits of the process's
// cgroups (v2 and v1) under root, the minimum over each cgroup and its
// ancestors. Files that do not exist are no limit; files that cannot be
// parsed are listed in malformed, so a broken hierarchy is reported rather
// than silently ignored.
func readCgroupLimits(root string) (cgroupLimits, error) {
	var lim cgroupLimits
	cgb, err := readSys(root, "/proc/self/cgroup")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return lim, nil // a kernel without cgroups has no limits
		}
		return lim, err
	}
	member, err := parseProcCgroup(cgb)
	if err != nil {
		return lim, err
	}
	mib, err := readSys(root, "/proc/self/mountinfo")
	if err != nil {
		return lim, err
	}
	mounts, err := parseMountInfo(mib)
	if err != nil {
		return lim, err
	}
	take := func(v float64, where string, cur *float64, curWhere *string) {
		if v > 0 && (*cur == 0 || v < *cur) {
			*cur, *curWhere = v, where
		}
	}
	bad := func(dir, name, val string) {
		msg := fmt.Sprintf("%s: cannot parse %q", path.Join(dir, name), truncate(val, 40))
		if strings.HasPrefix(name, "cpu") {
			lim.badCPU = append(lim.badCPU, msg)
		} else {
			lim.badMem = append(lim.badMem, msg)
		}
	}
	read := func(dir, name string) (string, bool) {
		b, err := readSys(root, path.Join(dir, name))
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				bad(dir, name, err.Error())
			}
			return "", false
		}
		return strings.TrimSpace(string(b)), true
	}
	// cgroup v2
	for _, d := range cgroupDirs(member, mounts, "") {
		if s, ok := read(d, "cpu.max"); ok {
			if v, err := parseCPUMax(s); err != nil {
				bad(d, "cpu.max", s)
			} else {
				take(v, path.Join(d, "cpu.max"), &lim.cpu, &lim.cpuWhere)
			}
		}
		for _, name := range []string{"memory.max", "memory.high"} {
			if s, ok := read(d, name); ok {
				if v, err := parseMemLimit(s); err != nil {
					bad(d, name, s)
				} else {
					take(v, path.Join(d, name), &lim.mem, &lim.memWhere)
				}
			}
		}
	}
	// cgroup v1
	for _, d := range cgroupDirs(member, mounts, "cpu") {
		q, okq := read(d, "cpu.cfs_quota_us")
		p, okp := read(d, "cpu.cfs_period_us")
		if okq && okp {
			if v, err := parseCFSQuota(q, p); err != nil {
				bad(d, "cpu.cfs_quota_us", q+" / "+p)
			} else {
				take(v, path.Join(d, "cpu.cfs_quota_us"), &lim.cpu, &lim.cpuWhere)
			}
		}
	}
	for _, d := range cgroupDirs(member, mounts, "memory") {
		if s, ok := read(d, "memory.limit_in_bytes"); ok {
			if v, err := parseMemLimit(s); err != nil {
				bad(d, "memory.limit_in_bytes", s)
			} else {
				take(v, path.Join(d, "memory.limit_in_bytes"), &lim.mem, &lim.memWhere)
			}
		}
	}
	return lim, nil
}

// parseCPUMax parses cgroup v2 cpu.max, "QUOTA PERIOD" or "max PERIOD", into
// CPUs (0 = no quota).
func parseCPUMax(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return 0, errors.New("want QUOTA [PERIOD]")
	}
	if f[0] == "max" {
		return 0, nil
	}
	period := "100000"
	if len(f) == 2 {
		period = f[1]
	}
	return parseCFSQuota(f[0], period)
}

// parseCFSQuota turns a quota and period in microseconds into CPUs; a
// negative quota (v1's -1) is no quota.
func parseCFSQuota(quota, period string) (float64, error) {
	q, err := strconv.ParseInt(strings.TrimSpace(quota), 10, 64)
	if err != nil {
		return 0, err
	}
	p, err := strconv.ParseInt(strings.TrimSpace(period), 10, 64)
	if err != nil || p <= 0 {
		return 0, fmt.Errorf("bad period %q", period)
	}
	if q < 0 {
		return 0, nil
	}
	if q == 0 {
		return 0, errors.New("zero quota")
	}
	return float64(q) / float64(p), nil
}

// parseMemLimit parses memory.max, memory.high ("max" = none) or v1's
// memory.limit_in_bytes (a huge number near 2^63 = none) into bytes.
func parseMemLimit(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if v >= 1<<62 {
		return 0, nil // v1 spells "unlimited" as the page-rounded max int64
	}
	if v == 0 {
		return 0, errors.New("zero limit")
	}
	return float64(v), nil
}

// mountOf returns the mount holding the absolute, symlink-free path p: the
// last listed mount whose point is p or a parent of it (later mounts hide
// earlier ones at the same point).
func mountOf(mounts []mount, p string) (mount, bool) {
	var best mount
	found := false
	for _, m := range mounts {
		if _, ok := relPath(m.point, p); !ok {
			continue
		}
		if !found || len(m.point) >= len(best.point) {
			best, found = m, true
		}
	}
	return best, found
}

// ramBacked says whether a filesystem type keeps its files in memory or
// somewhere the disk rates do not describe, and why, for a note.
func ramBacked(fstype string) (string, bool) {
	switch {
	case fstype == "tmpfs" || fstype == "ramfs":
		return "a RAM-backed filesystem (" + fstype + "): the file rates measure memory, not a disk", true
	case fstype == "overlay":
		return "an overlay filesystem (a container's): the file rates are those of the filesystem beneath it", true
	case fstype == "fuse" || strings.HasPrefix(fstype, "fuse."):
		return "a FUSE filesystem (" + fstype + "): the file rates depend on the program serving it", true
	}
	return "", false
}

// parseUlimit parses what `ulimit -n` prints.
func parseUlimit(out string) (int64, error) {
	s := strings.TrimSpace(out)
	if s == "unlimited" {
		return 0, errors.New("the open-files limit is unlimited, which Linux does not allow: cannot split it")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("`ulimit -n` printed %q, not a positive number", truncate(s, 40))
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
