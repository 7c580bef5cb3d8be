//go:build windows

package state

import "os"

// syncIn syncs a file under root. Directories are skipped: a directory
// cannot be opened for syncing on Windows, and NTFS journals its metadata
// (renames included) itself.
func syncIn(root *os.Root, name string) error {
	if st, err := root.Lstat(name); err == nil && st.IsDir() {
		return nil
	}
	f, err := root.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
