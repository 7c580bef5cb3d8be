//go:build windows

package state

// syncDir does nothing on Windows: a directory cannot be opened for syncing
// there, and NTFS journals its metadata (renames included) itself.
func syncDir(dir string) error { return nil }
