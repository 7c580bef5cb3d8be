// Package web holds the pages, embedded in the binary: the donor's install
// window (donor/) and the builder's upload page (upload/), and what both load
// to validate vesselinfo in the browser: validator.wasm, built from ../wasm by
// `make wasm`, and the wasm_exec.js of the same Go release.
package web

import (
	"embed"
	"io/fs"
)

//go:embed validator.wasm wasm_exec.js donor upload
var files embed.FS

// Files returns every page and asset, rooted at this folder: donor/...,
// upload/..., validator.wasm, wasm_exec.js.
func Files() fs.FS { return files }
