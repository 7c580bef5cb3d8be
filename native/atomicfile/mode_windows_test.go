//go:build windows

package atomicfile

// privateMode is how a file written with mode 0600 reads back on Windows:
// a file there has no owner, group and other bits, only a read-only
// attribute, which Go's Chmod sets when the mode has no owner write bit
// and Stat reports as 0444 (else 0666). Who may read the file is decided
// by the folder's access control list, which the file inherits.
const privateMode = 0o666
