// Package upload holds the builder's upload page (index.html, app.js,
// app.css), its key generator (keygen-worker.js and keygen.wasm, built from
// ../../wasm/keygen by `make wasm`) and the donor page's script (donor.js),
// embedded in seattle-builder only: donor installers do not carry them. What
// it shares with the donor's install window, the validator (validator.wasm,
// wasm_exec.js) and the common stylesheet (common.css), is in package web.
//
// gz/ holds the gzip forms of the page's files, the validator and the
// common stylesheet, made by
// `make wasm` (gzip -9 -n) so that the server sends them compressed without
// compressing anything per request.
package upload

import (
	"embed"
	"io/fs"
)

//go:embed index.html app.js app.css donor.js keygen-worker.js keygen.wasm
var files embed.FS

//go:embed gz
var gz embed.FS

// Files returns the page's files, rooted at this folder.
func Files() fs.FS { return files }

// Precompressed returns the gzip forms, named NAME.gz (app.js.gz,
// validator.wasm.gz, ...).
func Precompressed() fs.FS {
	sub, err := fs.Sub(gz, "gz")
	if err != nil {
		panic(err) // gz is embedded: Sub cannot fail
	}
	return sub
}
