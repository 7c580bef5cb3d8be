package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

const (
	validFile = "Percent 40\nOwner 3 5\nUser 7 11\nPercent 60\nOwner 13 17\n"
	// invalidFile breaks a rule on lines 2, 3 and 4, and the sum (line 4).
	invalidFile = "Percent 40\nowner 3 5\n\nOwner alice.publickey\n"
)

// writeFile writes content to a new file in a fresh directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// errorLines is what validate prints for an invalid file: one FILE:LINE:
// message line per error, in the library's order.
func errorLines(t *testing.T, name, content string) string {
	t.Helper()
	res := vesselinfo.Validate([]byte(content))
	if res.Valid {
		t.Fatalf("test input is valid: %q", content)
	}
	var b strings.Builder
	for _, e := range res.Errors {
		b.WriteString(name + ":" + strconv.Itoa(e.Line) + ": " + e.Message + "\n")
	}
	return b.String()
}

func jsonOf(content string) string { return string(vesselinfo.Validate([]byte(content)).JSON()) + "\n" }

func TestValidateCommand(t *testing.T) {
	t.Parallel()
	valid := writeFile(t, "vesselinfo", validFile)
	invalid := writeFile(t, "vesselinfo", invalidFile)
	empty := writeFile(t, "vesselinfo", "")
	sample := filepath.Join("..", "..", "assets", "vesselinfo.sample")
	missing := filepath.Join(t.TempDir(), "nope")
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string // exactly, unless empty
		stderr string // contained in stderr, unless empty
	}{
		{name: "valid file", args: []string{"validate", valid}, code: exitOK,
			stdout: valid + ": valid: 2 vessels, 1 user key\n"},
		{name: "shipped sample", args: []string{"validate", sample}, code: exitOK,
			stdout: sample + ": valid: 4 vessels, 1 user key\n"},
		{name: "invalid file lists every error with its line", args: []string{"validate", invalid}, code: exitFail,
			stdout: errorLines(t, invalid, invalidFile)},
		{name: "empty file", args: []string{"validate", empty}, code: exitFail,
			stdout: empty + ":1: vesselinfo is empty: it needs at least one vessel (\"Percent N\" then \"Owner e n\")\n"},
		{name: "stdin valid", stdin: validFile, args: []string{"validate", "-"}, code: exitOK,
			stdout: "<stdin>: valid: 2 vessels, 1 user key\n"},
		{name: "stdin invalid", stdin: invalidFile, args: []string{"validate", "-"}, code: exitFail,
			stdout: errorLines(t, "<stdin>", invalidFile)},
		{name: "stdin empty", args: []string{"validate", "-"}, code: exitFail,
			stdout: errorLines(t, "<stdin>", "")},
		{name: "json valid", args: []string{"validate", "--json", valid}, code: exitOK, stdout: jsonOf(validFile)},
		{name: "json invalid", args: []string{"validate", "--json", invalid}, code: exitFail, stdout: jsonOf(invalidFile)},
		{name: "json from stdin", stdin: invalidFile, args: []string{"validate", "-json", "-"}, code: exitFail, stdout: jsonOf(invalidFile)},
		{name: "json flag after file", args: []string{"validate", valid, "--json"}, code: exitOK, stdout: jsonOf(validFile)},
		{name: "json of hostile bytes", stdin: "Percent 100\n\x00\xff\"\\\n", args: []string{"validate", "--json", "-"}, code: exitFail,
			stdout: jsonOf("Percent 100\n\x00\xff\"\\\n")},
		{name: "help", args: []string{"validate", "--help"}, code: exitOK, stderr: ""},
		{name: "no file", args: []string{"validate"}, code: exitUsage, stderr: "give exactly one FILE"},
		{name: "two files", args: []string{"validate", valid, invalid}, code: exitUsage, stderr: "not 2"},
		{name: "unknown flag", args: []string{"validate", "--yaml", valid}, code: exitUsage, stderr: "flag provided but not defined: -yaml"},
		{name: "missing file", args: []string{"validate", missing}, code: exitUsage, stderr: notFound(missing)},
		{name: "directory", args: []string{"validate", t.TempDir()}, code: exitUsage, stderr: "is a directory, not a vesselinfo file"},
		// The kernel refuses to read address 0 of a process: a real I/O error.
		{name: "read error", args: []string{"validate", "/proc/self/mem"}, code: exitUsage, stderr: "read /proc/self/mem: input/output error"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			if tc.name == "read error" && runtime.GOOS != "linux" {
				t.Skip("/proc/self/mem is Linux's")
			}
			r := runBinary(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.stdout != "" && r.stdout != tc.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, tc.stdout)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.stderr)
			}
			switch tc.code {
			case exitUsage:
				if r.stdout != "" {
					t.Errorf("a usage or I/O error printed to stdout: %s", r.stdout)
				}
			default:
				if r.stderr != "" {
					t.Errorf("stderr not empty: %s", r.stderr)
				}
			}
		})
	}
}

// TestValidateHelpTeaches: --help shows the rules, exit codes and examples.
func TestValidateHelpTeaches(t *testing.T) {
	t.Parallel()
	r := runBinary(t, "", "validate", "--help")
	for _, want := range []string{"Usage: seattle-installer validate [--json] FILE", "Percent 40", "Owner", "User",
		"add up to 100", "Exit status: 0 valid, 1 invalid, 2 usage or I/O error", "Examples:", "-json"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestValidateHugeFile: a 50 MB file, named or on standard input, is refused
// with one line, and validate reads only MaxSize+1 bytes of it.
func TestValidateHugeFile(t *testing.T) {
	// Not parallel: it counts what this process allocates.
	const size = 50 << 20
	path := filepath.Join(t.TempDir(), "vesselinfo")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("User 65537 " + strings.Repeat("7", 300) + "\n")
	w := bufio.NewWriter(f)
	w.WriteString("Percent 100\nOwner 3 5\n")
	for written := 0; written < size; written += len(line) {
		w.Write(line)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	const msg = ":1: vesselinfo is larger than the limit of 16 MiB; a real one is a few kilobytes: is this the right file?\n"

	for _, tc := range []struct {
		name, arg, display string
		pipe               bool   // stdin is a pipe, of unknown size
		limit              uint64 // bytes validate may allocate
	}{
		{"file", path, path, false, vesselinfo.MaxSize + 1<<20},
		{"stdin from a file", "-", "<stdin>", false, vesselinfo.MaxSize + 1<<20},
		{"stdin from a pipe", "-", "<stdin>", true, 2*vesselinfo.MaxSize + 1<<20},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			in, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			cmd := testbin.Command(context.Background(), binPath, "validate", tc.arg)
			var stdin io.Reader = in
			if tc.pipe {
				stdin = bufio.NewReader(in) // not an *os.File: exec makes a pipe
			}
			if tc.arg == "-" {
				cmd.Stdin = stdin
			}
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err = cmd.Run()
			if cmd.ProcessState == nil {
				t.Fatalf("run: %v", err)
			}
			if code := cmd.ProcessState.ExitCode(); code != exitFail {
				t.Errorf("exit %d, want %d (stderr: %s)", code, exitFail, errb.String())
			}
			if want := tc.display + msg; out.String() != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
			}

			// The same command in process, to count what it allocates: the
			// child's peak RSS cannot be measured apart from this process's
			// (the kernel carries a vforked child's parent high-water mark
			// across exec).
			if _, err := in.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if tc.pipe {
				stdin = bufio.NewReader(in)
			}
			var stdout, stderr bytes.Buffer
			var code int
			alloc := allocated(func() {
				code = run(context.Background(), &env{stdin, &stdout, &stderr}, []string{"validate", tc.arg})
			})
			if code != exitFail || stdout.String() != tc.display+msg {
				t.Fatalf("in process: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
			}
			t.Logf("allocated %.1f MiB for a %d MiB input", float64(alloc)/(1<<20), size>>20)
			if alloc > tc.limit {
				t.Errorf("allocated %d bytes, more than %d", alloc, tc.limit)
			}
		})
	}
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
