//go:build !windows

package state

import "os"

// syncIn makes a file or directory under root durable; "." is root itself.
// Syncing a directory makes its entries (creations, renames, removals)
// durable: without it a crash may forget a rename that already happened.
func syncIn(root *os.Root, name string) error {
	d, err := root.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
