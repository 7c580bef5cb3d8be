//go:build darwin || freebsd || openbsd || netbsd

package benchmark

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"
)

// probeOpenFiles: files get a third of the original open-files limit, as on
// Linux; sockets get half of kern.ipc.maxsockets each, as the original did on
// macOS and BSD, but never more than the descriptors left for them.
func probeOpenFiles(ctx context.Context) (files, in, out float64, note string, err error) {
	n, err := originalOpenFilesLimit(ctx)
	if err != nil {
		return 0, 0, 0, "", err
	}
	third := float64(n / 3)
	socks := third
	note = fmt.Sprintf("a third each of the open-files limit %d", n)
	if max, err := unix.SysctlUint32("kern.ipc.maxsockets"); err == nil && float64(max/2) < third {
		socks = float64(max / 2)
		note = fmt.Sprintf("files a third of the open-files limit %d; sockets half of kern.ipc.maxsockets %d each", n, max)
	}
	return third, socks, socks, note, nil
}
