package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seattleKey is a public key of the size of Seattle's service key.
const seattleKey = "22599311712094481841033180665237806588790054310631222126405381271924089573908627143292516781530652411806621379822579071415593657088637116149593337977245852950266439908269276789889378874571884748852746045643368058107460021117918657542413076791486130091963112612854591789518690856746757312472362332259277422867 12178066700672820207562107598028055819349361776558374610887354870455226150556699526375464863913750313427968362621410763996856543211502978012978982095721782038963923296750730921093699612004441897097001474531375768746287550135361393961995082362503104883364653410631228896653666456463100850609343988203007196015297634940347643303507210312220744678194150286966282701307645064974676316167089003178325518359863344277814551559197474590483044733574329925947570794508677779986459413166439000241765225023677767754555282196241915500996842713511830954353475439209109249856644278745081047029879999022462230957427158692886317487753201883260626152112524674984510719269715422340038620826684431748131325669940064404757120601727362881317222699393408097596981355810257955915922792648825991943804005848347665699744316223963851263851853483335699321871483966176480839293125413057603561724598227617736944260269994111610286827287926594015501020767105358832476708899657514473423153377514660641699383445065369199724043380072146246537039577390659243640710339329506620575034175016766639538091937167987100329247642670588246573895990251211721839517713790413170646177246216366029853604031421932123167115444834908424556992662935981166395451031277981021820123445253"

// TestServeReserve: --reserve and --reserve-key refuse what is wrong, in
// words, with exit status 2.
func TestServeReserve(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "seattle.publickey")
	os.WriteFile(key, []byte(seattleKey+"\n"), 0o644)
	priv := filepath.Join(dir, "seattle.privatekey")
	os.WriteFile(priv, []byte("1 2 3\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		in   string
	}{
		{"no key", []string{"--reserve", "20"}, "no owner key (--reserve-key FILE"},
		{"a key without a percentage", []string{"--reserve-key", key}, "an owner key was given but no percentage (--reserve)"},
		{"a missing key file", []string{"--reserve", "20", "--reserve-key", filepath.Join(dir, "none")}, "--reserve-key: open"},
		{"a private key", []string{"--reserve", "20", "--reserve-key", priv}, "expected 2 decimal numbers"},
		{"25 percent", []string{"--reserve", "25", "--reserve-key", key}, "25% is not a multiple of 10 from 10 to 90"},
		{"a public URL without a scheme", []string{"--public-url", "builder.example.org"}, "give the scheme and host"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--base", t.TempDir()}, tc.args...)
			r := runBinary(t, args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.in) {
				t.Errorf("exit %d, want %d with %q\nstderr: %s", r.code, exitUsage, tc.in, r.stderr)
			}
		})
	}
	if r := runBinary(t, "serve", "--help"); !strings.Contains(r.stderr+r.stdout, "--reserve-key") || !strings.Contains(r.stderr+r.stdout, "/xmlrpc/") {
		t.Errorf("serve --help does not teach the XML-RPC API and --reserve-key:\n%s", r.stderr)
	}
}

// TestServeXMLRPC runs the real binary as Seattle's server runs (20 %
// reserved for the service key) and makes the Clearinghouse's call with
// Python's xmlrpc.client, then downloads result['installers']['linux'].
func TestServeXMLRPC(t *testing.T) {
	base := t.TempDir()
	os.WriteFile(filepath.Join(base, "seattle-installer-linux-amd64"), []byte("#!/bin/sh\n"), 0o755)
	key := filepath.Join(t.TempDir(), "seattle.publickey")
	os.WriteFile(key, []byte(seattleKey+"\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--base", base,
		"--reserve", "20", "--reserve-key", key)
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
	url := strings.TrimSuffix(strings.Fields(line)[1], "/")
	tgz := filepath.Join(t.TempDir(), "linux.tar.gz")
	py := `
import sys, urllib.request, xmlrpc.client
url, tgz = sys.argv[1], sys.argv[2]
proxy = xmlrpc.client.ServerProxy(url + "/xmlrpc/")
K1, K2 = "3 33", "5 35"
print(proxy.api_version())
result = proxy.build_installers([{'percentage': 80, 'owner': 'owner', 'users': ['user']}],
                                {'owner': {'public_key': K1}, 'user': {'public_key': K2}})
urllib.request.urlretrieve(result['installers']['linux'], tgz)
try:
    proxy.build_installers([{'percentage': 100, 'owner': 'owner'}], {'owner': {'public_key': K1}})
except xmlrpc.client.Fault as f:
    print(f.faultString)
`
	out, err := exec.CommandContext(ctx, "python3", "-c", py, url, tgz).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s\nserver: %s", err, out, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] != "2.0" || !strings.Contains(lines[1], "must add up to 80, because this server adds a vessel of 20%") {
		t.Errorf("python3 printed:\n%s", out)
	}
	b, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	want := "Percent 80\nOwner 3 33\nUser 5 35\nPercent 20\nOwner " + seattleKey + "\n"
	if got := tarFile(t, b, "seattle/seattle_repy/vesselinfo"); got != want {
		t.Errorf("seattle/seattle_repy/vesselinfo:\n%s\nwant:\n%s", got, want)
	}
}
