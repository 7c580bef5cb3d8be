//go:build !windows

package atomicfile

import "os"

// SyncDir makes the entries of a directory (creations, renames, removals)
// durable: without it a crash may forget a rename that already happened.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
