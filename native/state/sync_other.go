//go:build !windows

package state

import "os"

// syncDir makes the entries of a directory (creations, renames, removals)
// durable: without it a crash may forget a rename that already happened.
func syncDir(dir string) error { return syncPath(dir) }

// syncPath syncs a file or a directory.
func syncPath(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
