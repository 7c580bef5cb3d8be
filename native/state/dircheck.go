package state

import "fmt"

// UnsafeDirError says why an install directory was refused.
type UnsafeDirError struct {
	Dir     string // the install directory
	Culprit string // it, or the directory above it that is unsafe
	Why     string
}

func (e *UnsafeDirError) Error() string {
	where := e.Culprit
	if e.Culprit != e.Dir {
		where = fmt.Sprintf("%s (above the install directory %s)", e.Culprit, e.Dir)
	}
	return fmt.Sprintf("%s %s; nothing was written. As root, install into a directory that only root can write (for example /opt/seattle), or run the installer as the user who owns the directory", where, e.Why)
}
