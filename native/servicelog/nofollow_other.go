//go:build !unix && !windows

package servicelog

import (
	"fmt"
	"os"
)

// openNoFollow refuses a symbolic link by looking first: without
// O_NOFOLLOW a race remains, which only the directory's owner can win.
func openNoFollow(p string, flag int, perm os.FileMode) (*os.File, error) {
	if st, err := os.Lstat(p); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link", p)
	}
	return os.OpenFile(p, flag, perm)
}
