//go:build !js

package difftest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

const (
	inputs      = 6000 // generated files, each validated natively and in WASM
	viaBinary   = 60   // of them also through the real validate --json
	seed        = 2026 // fixed, so a failure can be reproduced
	moduleRoot  = "../.."
	cliPackage  = "./native/cmd/seattle-installer"
	wasmPackage = "./wasm"
)

// TestWASMMatchesNative builds the WebAssembly module and the real binary
// from this checkout, validates every generated input in one Node process
// (as bytes, and as a string when it is UTF-8) and compares each result with
// Validate(...).JSON() byte for byte, and a sample with validate --json.
func TestWASMMatchesNative(t *testing.T) {
	node := nodePath(t)
	dir := t.TempDir()
	wasm, bin := wasmPath, binPath

	cases := generate(inputs, seed)
	valid := 0
	var records bytes.Buffer
	strs := 0
	for _, src := range cases {
		flag := byte(0)
		if utf8.Valid(src) {
			flag = 1
			strs++
		}
		records.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(src))))
		records.WriteByte(flag)
		records.Write(src)
		if vesselinfo.Validate(src).Valid {
			valid++
		}
	}
	t.Logf("%d inputs (%d valid, %d also as strings)", len(cases), valid, strs)
	// The generator must keep producing both kinds, or the test proves little.
	if valid < len(cases)/10 || valid > len(cases)*9/10 {
		t.Fatalf("%d of %d generated inputs are valid: the generator is off balance", valid, len(cases))
	}
	inFile, outFile := filepath.Join(dir, "inputs"), filepath.Join(dir, "outputs")
	if err := os.WriteFile(inFile, records.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "driver.js"), wasmExec, wasm, inFile, outFile)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node driver.js: %v\n%s", err, out)
	}
	t.Logf("node ran the WASM validator on them in %v", time.Since(start).Round(time.Millisecond))
	out, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	results := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")

	next := 0
	take := func() string {
		if next >= len(results) {
			t.Fatalf("the driver printed %d results, fewer than the calls made", len(results))
		}
		next++
		return results[next-1]
	}
	mismatches := 0
	for i, src := range cases {
		want := string(vesselinfo.Validate(src).JSON())
		got := []string{take()}
		if utf8.Valid(src) {
			got = append(got, take())
		}
		for j, g := range got {
			if g != want && mismatches < 5 {
				mismatches++
				t.Errorf("input %d (%s): WASM and native differ\ninput: %.300q\nwasm:   %.500s\nnative: %.500s",
					i, [...]string{"bytes", "string"}[j], src, g, want)
			}
		}
	}
	if next != len(results) {
		t.Errorf("the driver printed %d results, more than the %d calls made", len(results), next)
	}

	// The real binary prints the same object.
	for i := 0; i < len(cases); i += len(cases) / viaBinary {
		path := filepath.Join(dir, "vesselinfo-"+strconv.Itoa(i))
		if err := os.WriteFile(path, cases[i], 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "validate", "--json", path)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatal(err)
		}
		want := string(vesselinfo.Validate(cases[i]).JSON()) + "\n"
		if stdout.String() != want {
			t.Errorf("input %d: validate --json printed\n%.500s\nwant\n%.500s\nstderr: %s", i, stdout.String(), want, stderr.String())
		}
	}
}

// TestWASMArguments calls the exported function the ways a careless page
// might: every call returns a result object, none throws.
func TestWASMArguments(t *testing.T) {
	node := nodePath(t)
	out, err := exec.Command(node, filepath.Join("testdata", "args.js"), wasmExec, wasmPath).CombinedOutput()
	if err != nil {
		t.Fatalf("node args.js: %v\n%s", err, out)
	}
	const (
		needOne  = `{"valid":false,"vessels":[],"errors":[{"line":1,"message":"seattleValidateVesselinfo needs one argument: the text of the file, or its bytes as a Uint8Array"}]}`
		needText = `{"valid":false,"vessels":[],"errors":[{"line":1,"message":"seattleValidateVesselinfo needs the text of the file (a string) or its bytes (a Uint8Array)"}]}`
	)
	want := []string{
		needOne,  // no argument
		needOne,  // two
		needText, // a number
		needText, // null
		needText, // undefined
		needText, // an object
		needText, // an ArrayBuffer
		`{"valid":true,"vessels":[{"percent":100,"owner":"3 5","users":[]}],"errors":[]}`, // a view into a larger buffer
		needText, // a String object
		`{"valid":false,"vessels":[],"errors":[{"line":2,"message":"Owner key: n \"\\ufffd\" is not a whole number (digits 0-9 only)"}]}`, // a lone surrogate becomes U+FFFD
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d:\ngot  %s\nwant %s", i, got[i], want[i])
		}
	}
}

// Built once by TestMain from this checkout, for every test and benchmark.
var (
	wasmPath string // the WebAssembly validator, as make wasm builds it
	binPath  string // the real seattle-installer binary
	wasmExec = filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js")
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "difftest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	wasmPath = filepath.Join(dir, "validator.wasm")
	binPath = filepath.Join(dir, "seattle-installer")
	err = goBuild([]string{"GOOS=js", "GOARCH=wasm"}, "-trimpath", "-ldflags=-s -w", "-o", wasmPath, wasmPackage)
	if err == nil {
		err = goBuild(nil, "-o", binPath, cliPackage)
	}
	code := 2
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func goBuild(env []string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %v\n%s", args, err, out)
	}
	return nil
}

func nodePath(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the WebAssembly validator is tested under Node 20 (apt-get install nodejs)")
	}
	return node
}
