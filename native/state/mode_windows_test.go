//go:build windows

package state

// privateMode is how a file written with mode 0600 reads back on Windows:
// there a file has only a read-only attribute, which Stat reports as 0444
// (else 0666), and who may read nodeman.cfg is decided by the access
// control list it inherits from the install folder (the donor's own, under
// their profile, by default).
const privateMode = 0o666
