//go:build unix

package state

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

var errWouldBlock = errors.New("the lock is held")

func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.EWOULDBLOCK:
			return errWouldBlock
		}
		return err
	}
}

// unlockAndRemove removes the lock file while still holding it (whoever
// opens it now finds it gone from the directory and retries), then closes
// it, which releases the lock.
func unlockAndRemove(l *Lock) {
	l.t.root.Remove(LockFile)
	l.f.Close()
}
