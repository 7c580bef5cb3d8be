// Package upload holds the builder's upload page (index.html, app.js,
// app.css), embedded in seattle-builder only: donor installers do not carry
// it. The validator it loads (validator.wasm, wasm_exec.js) is in package web.
package upload

import (
	"embed"
	"io/fs"
)

//go:embed index.html app.js app.css
var files embed.FS

// Files returns the page's files, rooted at this folder.
func Files() fs.FS { return files }
