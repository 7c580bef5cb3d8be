// Package builder is the server side of the installer: the upload page where
// an operator checks a vesselinfo file (in the browser, with the same
// WebAssembly validator the donor's installer uses), the JSON API that stores
// it, and the custom installers for every platform that donors download.
//
// Everything it serves is a pure function of the vesselinfo text and the base
// installers: a build's ID is a hash of the text, and each archive is
// byte-identical on any machine (sorted entries, fixed times, owners and
// modes, deterministic gzip). Servers behind a load balancer therefore share
// nothing, and any cache in front of them is always right.
package builder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Platform is an OS and architecture pair, as in "linux-amd64".
type Platform string

// The platforms an installer is built for.
const (
	LinuxAMD64   Platform = "linux-amd64"
	LinuxARM64   Platform = "linux-arm64"
	DarwinAMD64  Platform = "darwin-amd64"
	DarwinARM64  Platform = "darwin-arm64"
	WindowsAMD64 Platform = "windows-amd64"
)

// Platforms lists every platform, in the order links are shown.
var Platforms = []Platform{LinuxAMD64, LinuxARM64, DarwinAMD64, DarwinARM64, WindowsAMD64}

// OS returns the platform's GOOS.
func (p Platform) OS() string { os, _, _ := strings.Cut(string(p), "-"); return os }

// Known reports whether p is one of Platforms.
func (p Platform) Known() bool {
	for _, q := range Platforms {
		if p == q {
			return true
		}
	}
	return false
}

// ArchiveExt is the archive's file name extension: zip on Windows, where
// Explorer opens it natively, tar.gz elsewhere, which keeps the program's
// executable bit.
func (p Platform) ArchiveExt() string {
	if p.OS() == "windows" {
		return ".zip"
	}
	return ".tar.gz"
}

// BaseName is the file name of the platform's base installer in the base
// directory (what `make dist` writes to bin/dist):
//
//	seattle-installer-linux-amd64           CGO_ENABLED=0: browser and terminal UI
//	seattle-installer-linux-amd64-webview   cgo: its own window (WebKitGTK); Linux only, optional
//	seattle-installer-windows-amd64.exe
func BaseName(p Platform) string {
	if p.OS() == "windows" {
		return "seattle-installer-" + string(p) + ".exe"
	}
	return "seattle-installer-" + string(p)
}

// WebviewBaseName is the file name of the platform's optional build with the
// webview window.
func WebviewBaseName(p Platform) string { return "seattle-installer-" + string(p) + "-webview" }

// base is what the base directory holds for one platform: the program and,
// on Linux, possibly its webview build.
type base struct {
	platform Platform
	program  string // path of the CGO_ENABLED=0 build
	webview  string // path of the webview build, "" when there is none
}

// findBases looks for the base installer of every platform in dir. A
// platform without one is left out; it is not an error.
func findBases(dir string) ([]base, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("base installers: %w (build them with `make dist`)", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("base installers: %s is not a directory", dir)
	}
	var bases []base
	for _, p := range Platforms {
		b := base{platform: p, program: filepath.Join(dir, BaseName(p))}
		if !isFile(b.program) {
			continue
		}
		if p.OS() == "linux" {
			if w := filepath.Join(dir, WebviewBaseName(p)); isFile(w) {
				b.webview = w
			}
		}
		bases = append(bases, b)
	}
	return bases, nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// IDLen is the length of a build ID in hexadecimal digits: 128 bits of
// SHA-256. Finding two files with one ID takes about 2^64 tries and making a
// file with a given ID about 2^128, while the URLs stay short enough to read
// out and paste.
const IDLen = 32

// Normalize returns vesselinfo text as a build stores it: CRLF line ends
// become LF and a leading byte-order mark goes, so that the same file saved
// by any editor on Windows or Unix is one build. The validator reads all
// these forms the same way.
func Normalize(src []byte) []byte {
	s := strings.TrimPrefix(string(src), "\ufeff")
	if !strings.Contains(s, "\r\n") {
		return []byte(s)
	}
	return []byte(strings.ReplaceAll(s, "\r\n", "\n"))
}

// ID returns the build ID of vesselinfo text: the first IDLen hexadecimal
// digits of the SHA-256 of its normalized form.
func ID(src []byte) string {
	sum := sha256.Sum256(Normalize(src))
	return hex.EncodeToString(sum[:])[:IDLen]
}

// validID reports whether s has the form of a build ID: IDLen lower-case
// hexadecimal digits. Anything else (.., slashes, upper case, other lengths)
// never reaches the file system.
func validID(s string) bool {
	if len(s) != IDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
