// Package web holds the donor's install window (donor/), embedded in the
// installer, and what it shares with the builder's pages (package
// web/upload, embedded in seattle-builder only): the stylesheet of their
// common parts and palette (common.css), and, to validate vesselinfo in the
// browser, validator.wasm, built from ../wasm by `make wasm`, and the
// wasm_exec.js of the same Go release.
package web

import (
	"embed"
	"io/fs"
)

//go:embed validator.wasm wasm_exec.js common.css donor
var files embed.FS

// Files returns the donor page, the common stylesheet and the validator,
// rooted at this folder: donor/..., common.css, validator.wasm,
// wasm_exec.js.
func Files() fs.FS { return files }
