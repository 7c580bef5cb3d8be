//go:build !unix

package startup

import "io/fs"

// isRoot is false: outside Unix the installer registers for this user.
func isRoot() bool { return false }

// ownedByMe is true: outside Unix the directory's ACL guards the record.
func ownedByMe(fs.FileInfo) bool { return true }
