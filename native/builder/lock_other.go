//go:build !unix

package builder

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir holds the lock file open; where flock does not exist there is no
// check that a second server uses the same directory.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	return f, nil
}
