//go:build windows

package state

import "os"

// syncDir does nothing on Windows: a directory cannot be opened for syncing
// there, and NTFS journals its metadata (renames included) itself.
func syncDir(dir string) error { return nil }

// syncPath syncs a file; directories are skipped as in syncDir.
func syncPath(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if st, serr := os.Stat(path); serr == nil && st.IsDir() {
			return nil
		}
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
