//go:build windows

package state

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

var errWouldBlock = errors.New("the lock is held")

// lockOffset is where the locked byte lies: past the pid, which other
// processes must still be able to read (Windows locks are mandatory).
const lockOffset = 1 << 20

func lockFile(f *os.File) error {
	ol := &windows.Overlapped{Offset: lockOffset}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errWouldBlock
	}
	return err
}

// unlockAndRemove closes the file (releasing the lock), then removes it:
// Windows cannot remove a file that is open. If another install opened it
// in between, the removal fails and the file stays for it.
func unlockAndRemove(l *Lock) {
	l.f.Close()
	l.t.root.Remove(LockFile)
}
