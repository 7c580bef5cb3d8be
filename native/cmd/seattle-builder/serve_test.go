package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seattletestbed/seattle-installer/native/internal/testbin"
)

func TestServeUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		in   string
	}{
		{"help", []string{"serve", "--help"}, exitOK, "curl --data-binary @vesselinfo http://ADDR/api/builds"},
		{"extra argument", []string{"serve", "now"}, exitUsage, `unexpected argument "now"`},
		{"bad flag", []string{"serve", "--port", "80"}, exitUsage, "flag provided but not defined"},
		{"missing base directory", []string{"serve", "--data", t.TempDir(), "--base", "/nonexistent/dist"}, exitUsage, "make dist"},
		{"bad address", []string{"serve", "--data", t.TempDir(), "--base", t.TempDir(), "--addr", "127.0.0.1:99999"}, exitUsage, "invalid port"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := runBinary(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tc.in) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tc.in, r.stdout, r.stderr)
			}
		})
	}
}

// TestServeEndToEnd runs the real binary as the server: an upload, a
// download, and SIGTERM in the middle of a second download, which still
// completes before the server exits 0.
func TestServeEndToEnd(t *testing.T) {
	base := t.TempDir()
	// A stand-in for the base installer: the builder copies its bytes into
	// the archive without running it. 4 MiB that do not compress, so a slow
	// reader is still mid-download when SIGTERM arrives.
	prog := make([]byte, 4<<20)
	rand.NewChaCha8([32]byte{1}).Read(prog)
	if err := os.WriteFile(filepath.Join(base, "seattle-installer-linux-amd64"), prog, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "builds")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := testbin.Command(ctx, binPath, "serve", "--addr", "127.0.0.1:0", "--data", data, "--base", base)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("first line: %v; stderr: %s", err, stderr.String())
	}
	// serving http://127.0.0.1:PORT/ (builds in DIR; installers for linux-amd64)
	fields := strings.Fields(line)
	if len(fields) < 2 || !strings.HasPrefix(fields[1], "http://127.0.0.1:") || !strings.Contains(line, "installers for linux-amd64)") {
		t.Fatalf("first line %q", line)
	}
	url := strings.TrimSuffix(fields[1], "/")

	vi := "Percent 100\nOwner 3 5\nUser 7 11\n"
	res, err := http.Post(url+"/api/builds", "text/plain", strings.NewReader(vi))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID         string            `json:"id"`
		Installers map[string]string `json:"installers"`
	}
	err = json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if err != nil || res.StatusCode != 201 || len(created.Installers) != 1 {
		t.Fatalf("POST: %d %v %+v", res.StatusCode, err, created)
	}
	archive := url + created.Installers["linux-amd64"]
	res, err = http.Get(archive)
	if err != nil {
		t.Fatal(err)
	}
	first, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET: %d %v", res.StatusCode, err)
	}
	if got := tarFile(t, first, "seattle/seattle_repy/vesselinfo"); got != vi {
		t.Errorf("vesselinfo in the archive: %q", got)
	}
	if got := tarFile(t, first, "seattle/seattle_repy/seattle-installer"); got != string(prog) {
		t.Errorf("the archive's program is not the base installer (%d bytes)", len(got))
	}

	// A slow download, then SIGTERM.
	d := net.Dialer{Control: smallRecvBuffer}
	slow := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	res, err = slow.Get(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	head := make([]byte, 32<<10)
	if _, err := io.ReadFull(res.Body, head); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown has begun when new connections are refused; the download
	// in flight must still finish.
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts new connections 10 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rest, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("download cut off by SIGTERM: %v", err)
	}
	if got := append(head, rest...); !bytes.Equal(got, first) {
		t.Errorf("download during shutdown: %d bytes, want the same %d", len(got), len(first))
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\nstderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "shutting down") || !strings.Contains(stderr.String(), "msg=stopped") {
		t.Errorf("stderr lacks the shutdown lines:\n%s", stderr.String())
	}
}

// tarFile returns the content of one entry of a tar.gz.
func tarFile(t *testing.T, archive []byte, name string) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the archive: %v", name, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}
