//go:build unix

package servicelog

import (
	"os"
	"syscall"
)

func openNoFollow(p string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(p, flag|syscall.O_NOFOLLOW, perm)
}
