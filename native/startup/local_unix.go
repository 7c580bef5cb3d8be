//go:build unix

package startup

import "os"

func isRoot() bool { return os.Geteuid() == 0 }
