//go:build windows

package state

// CheckDir accepts every directory on Windows: there the install
// directory's ACL, not its owner and mode bits, decides who may write, and
// the installer runs as the donor.
func CheckDir(dir string) error { return nil }
