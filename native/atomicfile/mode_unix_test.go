//go:build !windows

package atomicfile

// privateMode is how a file written with mode 0600 reads back.
const privateMode = 0o600
