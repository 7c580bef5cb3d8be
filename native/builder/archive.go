package builder

// Archives are written so that the same inputs give the same bytes on any
// machine: entries sorted by name, one fixed time, uid and gid 0 with no owner
// names, fixed modes, and gzip members with no name and no time.
//
// They are also fast to build. Almost every byte of an archive is a base
// installer, the same for every build, so a recipe precompresses everything
// but the per-build entries (vesselinfo, README.txt) once per platform:
//   - tar.gz: a gzip file may be several gzip members one after another, and
//     gzip, tar and every gzip library read them as one stream. A run of
//     constant tar entries is one precompressed member; the per-build entries
//     are compressed into a member of their own at build time.
//   - zip: every entry is compressed on its own anyway, so constant entries
//     keep their deflated bytes and CRC-32, written with zip.Writer.CreateRaw.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/seattletestbed/seattle-installer/native/assets"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// ArchiveRoot is the folder every archive extracts into.
const ArchiveRoot = "seattle"

// NodeDir is the node's directory inside ArchiveRoot, as in Seattle's own
// installers: seattle/seattle_repy/ holds the installer program, vesselinfo
// and the common files, which is where Seattle's clients look for
// seattle/seattle_repy/vesselinfo. The installer installs beside itself, so
// this folder becomes the node's directory. README.txt (and install.sh on
// Linux) sit one level up, where a donor who opens the archive sees them.
const NodeDir = "seattle_repy"

// recipeVersion changes whenever the archive layout changes, so cached
// archives of an older layout are not served.
const recipeVersion = "seattle-builder-archive-2"

// ArchiveTime is the modification time of every archive entry: the earliest
// time a zip file can hold.
var ArchiveTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Names of entries inside ArchiveRoot.
const (
	entryVesselinfo = "vesselinfo" // the file's name in NodeDir, and in a build's data folder
	entryReadme     = "README.txt"
	entryInstallSh  = "install.sh"
	programName     = "seattle-installer"
	webviewName     = "seattle-installer-webview"
)

// gzipLevel trades build-once time for download size: the default level
// compresses the programs within a few percent of the best level at a
// fraction of its time.
const gzipLevel = gzip.DefaultCompression

// entry is one file or folder of an archive.
type entry struct {
	name    string      // inside ArchiveRoot; "" is ArchiveRoot itself
	mode    fs.FileMode // fs.ModeDir|0o755, 0o755 or 0o644
	body    []byte      // content of a constant entry
	dynamic bool        // content differs per build (vesselinfo, README.txt)
}

func (e entry) path() string {
	if e.name == "" {
		return ArchiveRoot + "/"
	}
	if e.mode.IsDir() {
		return ArchiveRoot + "/" + e.name + "/"
	}
	return ArchiveRoot + "/" + e.name
}

// recipe is a platform's archive with everything constant precomputed.
type recipe struct {
	platform Platform
	webview  bool   // the archive holds the webview build too
	digest   string // names cached archives; changes with any constant input
	size     int64  // bytes of precomputed data, for the log

	members []member   // tar.gz
	zipped  []zipEntry // zip
}

// member is one gzip member of a tar.gz: precompressed, or the per-build
// entries to compress at build time.
type member struct {
	gz      []byte
	dynamic []entry
}

// zipEntry is one zip entry, with its deflated bytes when constant.
type zipEntry struct {
	entry
	method uint16
	crc    uint32
	usize  uint64
	raw    []byte
}

// newRecipe reads a platform's base installers and the common files and
// precompresses them. It takes about a second per program; the result makes
// every build of that platform cheap.
func newRecipe(b base) (*recipe, error) {
	entries, err := archiveEntries(b)
	if err != nil {
		return nil, err
	}
	r := &recipe{platform: b.platform, webview: b.webview != ""}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", recipeVersion, runtime.Version(), b.platform)
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%o\x00%t\x00%d\x00", e.path(), e.mode, e.dynamic, len(e.body))
		h.Write(e.body)
	}
	r.digest = hex.EncodeToString(h.Sum(nil))[:16]

	if b.platform.OS() == "windows" {
		for _, e := range entries {
			z := zipEntry{entry: e}
			if !e.dynamic {
				z.method, z.crc, z.usize, z.raw, err = deflateEntry(e.body)
				if err != nil {
					return nil, err
				}
				r.size += int64(len(z.raw))
				z.body = nil // only the deflated bytes are needed from now on
			}
			r.zipped = append(r.zipped, z)
		}
		return r, nil
	}

	var run bytes.Buffer // tar bytes of constant entries not yet compressed
	flush := func() error {
		if run.Len() == 0 {
			return nil
		}
		gz, err := gzipMember(run.Bytes())
		if err != nil {
			return err
		}
		r.members = append(r.members, member{gz: gz})
		r.size += int64(len(gz))
		run.Reset()
		return nil
	}
	for _, e := range entries {
		if !e.dynamic {
			if err := writeTarEntry(&run, e, e.body); err != nil {
				return nil, err
			}
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		if n := len(r.members); n > 0 && r.members[n-1].gz == nil {
			r.members[n-1].dynamic = append(r.members[n-1].dynamic, e)
		} else {
			r.members = append(r.members, member{dynamic: []entry{e}})
		}
	}
	run.Write(make([]byte, 2*512)) // the end-of-archive marker
	if err := flush(); err != nil {
		return nil, err
	}
	return r, nil
}

// archiveEntries lists the entries of a platform's archive, sorted by path.
func archiveEntries(b base) ([]entry, error) {
	prog, err := os.ReadFile(b.program)
	if err != nil {
		return nil, fmt.Errorf("read base installer: %w", err)
	}
	node := func(name string) string { return NodeDir + "/" + name }
	es := []entry{
		{name: "", mode: fs.ModeDir | 0o755},
		{name: NodeDir, mode: fs.ModeDir | 0o755},
		{name: node(assets.RestrictionsFile), mode: 0o644, body: assets.Restrictions()},
		{name: node(assets.OffcutFile), mode: 0o644, body: assets.Offcut()},
		{name: node(entryVesselinfo), mode: 0o644, dynamic: true},
		{name: entryReadme, mode: 0o644, dynamic: true},
	}
	switch b.platform.OS() {
	case "windows":
		es = append(es, entry{name: node(programName + ".exe"), mode: 0o755, body: prog})
	case "linux":
		es = append(es,
			entry{name: node(programName), mode: 0o755, body: prog},
			entry{name: entryInstallSh, mode: 0o755, body: []byte(installSh)})
		if b.webview != "" {
			wv, err := os.ReadFile(b.webview)
			if err != nil {
				return nil, fmt.Errorf("read base installer: %w", err)
			}
			es = append(es, entry{name: node(webviewName), mode: 0o755, body: wv})
		}
	default:
		es = append(es, entry{name: node(programName), mode: 0o755, body: prog})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].path() < es[j].path() })
	return es, nil
}

// buildInput is what differs between builds of one platform.
type buildInput struct {
	id         string
	vesselinfo []byte // normalized
	vessels    []vesselinfo.Vessel
}

func (r *recipe) dynamicBody(e entry, in buildInput) []byte {
	switch e.name {
	case NodeDir + "/" + entryVesselinfo:
		return in.vesselinfo
	case entryReadme:
		return readme(r.platform, r.webview, in)
	}
	panic("builder: no per-build content for " + e.name) // a recipe bug, caught by every test
}

// write writes the platform's archive for one build to w.
func (r *recipe) write(w io.Writer, in buildInput) error {
	if r.platform.OS() == "windows" {
		return r.writeZip(w, in)
	}
	for _, m := range r.members {
		if m.gz != nil {
			if _, err := w.Write(m.gz); err != nil {
				return err
			}
			continue
		}
		var tb bytes.Buffer
		for _, e := range m.dynamic {
			if err := writeTarEntry(&tb, e, r.dynamicBody(e, in)); err != nil {
				return err
			}
		}
		gz, err := gzipMember(tb.Bytes())
		if err != nil {
			return err
		}
		if _, err := w.Write(gz); err != nil {
			return err
		}
	}
	return nil
}

func (r *recipe) writeZip(w io.Writer, in buildInput) error {
	zw := zip.NewWriter(w)
	for _, z := range r.zipped {
		if z.dynamic {
			var err error
			z.method, z.crc, z.usize, z.raw, err = deflateEntry(r.dynamicBody(z.entry, in))
			if err != nil {
				return err
			}
		}
		fh := &zip.FileHeader{
			Name:               z.path(),
			Method:             z.method,
			CRC32:              z.crc,
			CompressedSize64:   uint64(len(z.raw)),
			UncompressedSize64: z.usize,
			// MS-DOS date and time of ArchiveTime: 1980-01-01 00:00:00.
			ModifiedDate: 1<<5 | 1,
			ModifiedTime: 0,
		}
		fh.SetMode(z.mode)
		fh.ReaderVersion = 20
		fh.CreatorVersion = fh.CreatorVersion&0xff00 | 20
		fw, err := zw.CreateRaw(fh)
		if err != nil {
			return err
		}
		if _, err := fw.Write(z.raw); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeTarEntry writes one entry's header, content and padding.
func writeTarEntry(w io.Writer, e entry, body []byte) error {
	h := &tar.Header{
		Name:    e.path(),
		Mode:    int64(e.mode.Perm()),
		Size:    int64(len(body)),
		ModTime: ArchiveTime,
		Format:  tar.FormatUSTAR,
	}
	h.Typeflag = tar.TypeReg
	if e.mode.IsDir() {
		h.Typeflag, h.Size = tar.TypeDir, 0
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("tar %s: %w", h.Name, err)
	}
	if _, err := tw.Write(body); err != nil {
		return fmt.Errorf("tar %s: %w", h.Name, err)
	}
	// Flush pads the entry; Close would also write the end-of-archive
	// marker, which comes once, after the last entry.
	return tw.Flush()
}

// Compressors are reused: each one holds about a megabyte of tables, more
// than the per-build entries it compresses.
var (
	gzipWriters  = sync.Pool{New: func() any { zw, _ := gzip.NewWriterLevel(io.Discard, gzipLevel); return zw }}
	flateWriters = sync.Pool{New: func() any { fw, _ := flate.NewWriter(io.Discard, gzipLevel); return fw }}
)

// gzipMember compresses b into one complete gzip member with an empty header:
// no name, no time, so the bytes depend on b alone.
func gzipMember(b []byte) ([]byte, error) {
	var out bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&out) // also clears the header
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// deflateEntry compresses a zip entry's content, or stores it when deflate
// would not make it smaller (a folder, a tiny file).
func deflateEntry(b []byte) (method uint16, crc uint32, usize uint64, raw []byte, err error) {
	crc, usize = crc32.ChecksumIEEE(b), uint64(len(b))
	var out bytes.Buffer
	fw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(fw)
	fw.Reset(&out)
	if _, err := fw.Write(b); err != nil {
		return 0, 0, 0, nil, err
	}
	if err := fw.Close(); err != nil {
		return 0, 0, 0, nil, err
	}
	if out.Len() >= len(b) {
		return zip.Store, crc, usize, b, nil
	}
	return zip.Deflate, crc, usize, out.Bytes(), nil
}

// installSh starts the webview build, whose window needs WebKitGTK, and falls
// back to the build without it (browser page or terminal) when the system
// cannot load it: running it with --help makes the dynamic loader resolve
// every library first, and fails at once when one is missing.
const installSh = `#!/bin/sh
# Installs this Seattle node. Starts the installer with its own window when
# this system can load WebKitGTK, else the one that uses your web browser or
# this terminal. Flags go to "seattle-installer install" (try --help).
here=$(CDPATH= cd -- "$(dirname -- "$0")/seattle_repy" && pwd) || exit 2
prog="$here/seattle-installer"
if [ -x "$here/seattle-installer-webview" ] &&
   "$here/seattle-installer-webview" --help >/dev/null 2>&1; then
  prog="$here/seattle-installer-webview"
fi
case "${1:-}" in
  ""|-*) exec "$prog" install "$@" ;;
  *) exec "$prog" "$@" ;;
esac
`

// readme is the README.txt of a build: the one command to run first.
func readme(p Platform, webview bool, in buildInput) []byte {
	var b strings.Builder
	title := "Seattle installer for " + string(p)
	fmt.Fprintf(&b, "%s\n%s\n\n", title, strings.Repeat("=", len(title)))
	b.WriteString("This folder makes this computer a Seattle node: it donates a share of the\n" +
		"machine (10% unless you choose otherwise) to the vessels that the file\n" +
		"seattle_repy/vesselinfo lists. The installer measures the machine, shows\n" +
		"what each vessel gets, and installs into the folder seattle_repy.\n\n")
	switch p.OS() {
	case "windows":
		b.WriteString("To install, open the folder seattle_repy and double-click\nseattle-installer.exe, or run in a command prompt in this folder:\n\n" +
			"    seattle_repy\\seattle-installer.exe install\n\n")
	case "darwin":
		b.WriteString("To install, open Terminal in this folder and run:\n\n" +
			"    ./seattle_repy/seattle-installer install\n\n" +
			"If macOS says it cannot check the program for malicious software, run\n" +
			"\"xattr -dr com.apple.quarantine .\" in this folder first.\n\n")
	default:
		b.WriteString("To install, open a terminal in this folder and run:\n\n" +
			"    ./install.sh\n\n")
		if webview {
			b.WriteString("install.sh opens the installer's own window when WebKitGTK is installed\n" +
				"(seattle_repy/seattle-installer-webview) and otherwise uses your web\n" +
				"browser or the terminal (seattle_repy/seattle-installer).\n\n")
		}
	}
	b.WriteString("Useful flags: --percent 20 donates 20%, --ui none stays in the terminal,\n" +
		"--dry-run only shows the plan, --help lists the rest.\n\n")
	fmt.Fprintf(&b, "Built from vesselinfo %s: %s.\n", in.id, describeVessels(in.vessels))
	b.WriteString("Keep vesselinfo, vessel.restrictions and resources.offcut beside the\n" +
		"installer in seattle_repy; if the install fails, send\n" +
		"seattle_repy/installer_benchmark.log and seattle_repy/vesselinfo to whoever\n" +
		"gave you this installer.\n")
	s := b.String()
	if p.OS() == "windows" {
		s = strings.ReplaceAll(s, "\n", "\r\n") // for Notepad
	}
	return []byte(s)
}

func describeVessels(vs []vesselinfo.Vessel) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("v%d %d%%", i+1, v.Percent)
	}
	n := "vessels"
	if len(vs) == 1 {
		n = "vessel"
	}
	return fmt.Sprintf("%d %s (%s)", len(vs), n, strings.Join(parts, ", "))
}
