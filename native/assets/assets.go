// Package assets holds the files every installer ships unchanged, embedded in
// the binary: vessel.restrictions (appended to every resource file) and
// resources.offcut (the cost of one vessel). A copy beside the installer
// program wins over these; see Load.
package assets

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Names of the common files, as they appear beside an installer.
const (
	RestrictionsFile = "vessel.restrictions"
	OffcutFile       = "resources.offcut"
)

//go:embed vessel.restrictions
var restrictions []byte

//go:embed resources.offcut
var offcut []byte

// Restrictions returns the built-in vessel.restrictions.
func Restrictions() []byte { return clone(restrictions) }

// Offcut returns the built-in resources.offcut.
func Offcut() []byte { return clone(offcut) }

// Load returns the common file name (RestrictionsFile or OffcutFile) from dir
// when a copy exists there, else the built-in one. The second result says
// where it came from, for the log.
func Load(dir, name string) ([]byte, string, error) {
	var builtin []byte
	switch name {
	case RestrictionsFile:
		builtin = restrictions
	case OffcutFile:
		builtin = offcut
	default:
		return nil, "", fmt.Errorf("assets: no common file %q", name)
	}
	if dir != "" {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			return b, path, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, "", fmt.Errorf("read %s: %w", path, err)
		}
	}
	return clone(builtin), "built-in " + name, nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
