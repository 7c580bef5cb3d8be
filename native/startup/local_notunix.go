//go:build !unix

package startup

// isRoot is false: outside Unix the installer registers for this user.
func isRoot() bool { return false }
