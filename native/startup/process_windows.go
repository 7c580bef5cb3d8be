//go:build windows

package startup

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows the node is the start command's process and the processes it
// started, found by their parent's pid in a snapshot of the system's
// processes, as taskkill /T finds them (Wine 8.0's taskkill has no /T, and
// a program of our own needs no taskkill.exe on the PATH). A process counts
// as a child only when it started after its parent: Windows reuses pids,
// and a process keeps its parent's pid after the parent has ended. Since
// is the start command's creation time, so that a pid reused by another
// program is never stopped, and the children of a start command that has
// already exited (start_seattle.bat starts the node and ends) are still
// found.

func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS}
}

func openLog(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
}

// since is the process's creation time, in 100 ns since 1601 (a FILETIME).
// Start calls it while it holds the process's handle, so a start command
// that has ended already still has it.
func since(pid int) string {
	c, ok := creation(uint32(pid), false)
	if !ok {
		return ""
	}
	return strconv.FormatUint(c, 10)
}

// created is the creation time of the running process pid.
func created(pid uint32) (uint64, bool) { return creation(pid, true) }

// creation is the creation time of the process pid, which must still run
// when running is set.
func creation(pid uint32, running bool) (uint64, bool) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return 0, false
	}
	defer windows.CloseHandle(h)
	var code uint32
	if running && (windows.GetExitCodeProcess(h, &code) != nil || code != 259) { // STILL_ACTIVE
		return 0, false
	}
	var c, e, k, u windows.Filetime
	if windows.GetProcessTimes(h, &c, &e, &k, &u) != nil {
		return 0, false
	}
	return uint64(c.HighDateTime)<<32 | uint64(c.LowDateTime), true
}

// members returns the pids of the node p that run now: the start command
// (when it still runs as the process recorded) and its descendants.
func members(p Process) ([]uint32, error) {
	if p.PID <= 0 {
		return nil, nil
	}
	root := uint32(p.PID)
	parents := map[uint32]uint64{} // pid of the node's -> its creation time
	var out []uint32
	c, alive := created(root)
	switch {
	case alive && p.Since != "" && strconv.FormatUint(c, 10) != p.Since:
		return nil, nil // the pid is another program's now
	case alive:
		parents[root], out = c, append(out, root)
	case p.Since != "":
		// Ended: its children are known by its pid and creation time.
		s, err := strconv.ParseUint(p.Since, 10, 64)
		if err != nil {
			return nil, nil
		}
		parents[root] = s
	default:
		return nil, nil
	}
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("list the processes: %w", err)
	}
	defer windows.CloseHandle(snap)
	type entry struct{ pid, parent uint32 }
	var all []entry
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		all = append(all, entry{e.ProcessID, e.ParentProcessID})
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return nil, fmt.Errorf("list the processes: %w", err)
	}
	for grew := true; grew; {
		grew = false
		for _, e := range all {
			if _, seen := parents[e.pid]; seen {
				continue
			}
			pc, ok := parents[e.parent]
			if !ok || e.pid == e.parent {
				continue
			}
			if c, ok := created(e.pid); ok && c >= pc {
				parents[e.pid], out, grew = c, append(out, e.pid), true
			}
		}
	}
	return out, nil
}

// Stop ends the node p: the start command and what it started, at once
// (TerminateProcess, as taskkill /F; a detached Windows process has no
// console to send a gentler signal to), then waits up to grace for them to
// end.
func Stop(p Process, grace time.Duration) error {
	pids, err := members(p)
	if err != nil {
		return err
	}
	if len(pids) == 0 {
		return ErrNotRunning
	}
	var errs []error
	var handles []windows.Handle
	for _, pid := range pids {
		h, err := windows.OpenProcess(windows.PROCESS_TERMINATE|windows.SYNCHRONIZE, false, pid)
		if err != nil {
			continue // ended in between
		}
		handles = append(handles, h)
		if err := windows.TerminateProcess(h, 1); err != nil {
			errs = append(errs, fmt.Errorf("stop process %d: %w", pid, err))
		}
	}
	deadline := time.Now().Add(grace)
	for _, h := range handles {
		wait := max(time.Until(deadline), 0)
		if ev, _ := windows.WaitForSingleObject(h, uint32(wait/time.Millisecond)); ev != windows.WAIT_OBJECT_0 && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("the node's processes did not end within %v", grace))
		}
		windows.CloseHandle(h)
	}
	return errors.Join(errs...)
}

// Running reports whether anything of the node p still runs.
func Running(p Process) bool {
	pids, err := members(p)
	return err == nil && len(pids) > 0
}
