package startup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/seattletestbed/seattle-installer/native/atomicfile"
)

// RecordFile, in the install directory, records what the install did after
// its state: how the node starts at boot and which process it started, so
// that uninstall takes exactly that back and a rerun after a crash finishes
// what is still to do. The install's commit writes the first version.
const RecordFile = ".seattle-installer.node"

// Record is the content of RecordFile.
type Record struct {
	Version int   `json:"version"`
	Spec    *Spec `json:"spec,omitempty"` // nil: no node program is bundled
	// Boot is the method planned ("" for none: --disable-startup-script or
	// no start command); Registered is set just before registering, so an
	// interrupted registration is cleaned up and done again; BootDone once
	// it succeeded or its failure was reported.
	Boot       Method        `json:"boot,omitempty"`
	Registered *Registration `json:"registered,omitempty"`
	BootDone   bool          `json:"boot_done"`
	// Start says to start the node now (not --no-start); Started is the
	// process; StartDone once it started or its failure was reported.
	Start     bool     `json:"start"`
	Started   *Process `json:"started,omitempty"`
	StartDone bool     `json:"start_done"`
}

// Pending reports whether steps remain to be done.
func (r *Record) Pending() bool {
	return (r.Boot != "" && !r.BootDone) || (r.Start && !r.StartDone)
}

// Marshal is the file's content.
func (r *Record) Marshal() ([]byte, error) {
	r.Version = 1
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// maxRecord bounds what ReadRecord reads: a real record is a few hundred bytes.
const maxRecord = 64 << 10

// ReadRecord reads dir's record; fs.ErrNotExist when there is none.
func ReadRecord(dir string) (*Record, error) {
	p := filepath.Join(dir, RecordFile)
	f, err := openRead(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if len(b) > maxRecord {
		return nil, fmt.Errorf("%s is larger than %d KiB: not a record this installer wrote", p, maxRecord>>10)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if r.Version != 1 {
		return nil, fmt.Errorf("%s: version %d is not one this installer knows", p, r.Version)
	}
	if r.Spec != nil && (!filepath.IsAbs(r.Spec.Dir) || !filepath.IsAbs(r.Spec.Command)) {
		return nil, fmt.Errorf("%s: the start command is not an absolute path", p)
	}
	return &r, nil
}

// WriteRecord replaces dir's record atomically: a temporary file, synced,
// renamed over the old one.
func WriteRecord(dir string, r *Record) error {
	b, err := r.Marshal()
	if err != nil {
		return err
	}
	p := filepath.Join(dir, RecordFile)
	if err := atomicfile.WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// openRead opens a file for reading, refusing a symbolic link where the
// system allows.
func openRead(p string) (*os.File, error) {
	st, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: %w", p, errors.ErrUnsupported)
	}
	// The record names processes to stop and entries to remove: only one
	// written by this user counts.
	if !ownedByMe(st) {
		return nil, fmt.Errorf("%s belongs to another user; it was not used", p)
	}
	return os.Open(p)
}
