//go:build unix

package startup

import (
	"io/fs"
	"os"
	"syscall"
)

func isRoot() bool { return os.Geteuid() == 0 }

func ownedByMe(st fs.FileInfo) bool {
	s, ok := st.Sys().(*syscall.Stat_t)
	return !ok || int(s.Uid) == os.Geteuid()
}
