//go:build windows

package atomicfile

// SyncDir does nothing on Windows: a directory cannot be opened for syncing
// there, and NTFS journals its metadata (renames included) itself.
func SyncDir(dir string) error { return nil }
