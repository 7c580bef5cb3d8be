// Package web holds the donor's install window (donor/), embedded in the
// installer, and what it and the builder's upload page (package web/upload,
// embedded in seattle-builder only) load to validate vesselinfo in the
// browser: validator.wasm, built from ../wasm by `make wasm`, and the
// wasm_exec.js of the same Go release.
package web

import (
	"embed"
	"io/fs"
)

//go:embed validator.wasm wasm_exec.js donor
var files embed.FS

// Files returns the donor page and the validator, rooted at this folder:
// donor/..., validator.wasm, wasm_exec.js.
func Files() fs.FS { return files }
