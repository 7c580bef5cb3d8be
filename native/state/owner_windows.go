//go:build windows

package state

import "io/fs"

// ownedByMe is always true on Windows: a file's owner is a security
// descriptor there, and the install directory's ACL decides who may write.
func ownedByMe(fs.FileInfo) bool { return true }
