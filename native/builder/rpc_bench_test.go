package builder

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkXMLRPCBuildInstallers is the Seattle Clearinghouse's call, with
// both keys supplied, from 8 parallel clients: decode, check, validate,
// store, answer with the links. "new" names a different pair of keys on
// every call (as every donor has a key of their own), so each call stores a
// build, synced to disk; "stored" repeats one call, whose build is stored
// already. Reports calls per second.
func BenchmarkXMLRPCBuildInstallers(b *testing.B) {
	keys := benchKeys(b)
	body := func(i int64) []byte {
		// Pairs of distinct keys: 65×64 calls before one repeats.
		donor := keys[i%int64(len(keys))]
		accept := keys[(i/int64(len(keys))+i+1)%int64(len(keys))]
		return []byte(fmt.Sprintf(`<?xml version='1.0'?>
<methodCall><methodName>build_installers</methodName><params>
<param><value><array><data><value><struct>
<member><name>percentage</name><value><int>100</int></value></member>
<member><name>owner</name><value><string>owner</string></value></member>
<member><name>users</name><value><array><data><value><string>user</string></value></data></array></value></member>
</struct></value></data></array></value></param>
<param><value><struct>
<member><name>owner</name><value><struct><member><name>public_key</name><value><string>%s</string></value></member></struct></value></member>
<member><name>user</name><value><struct><member><name>public_key</name><value><string>%s</string></value></member></struct></value></member>
</struct></value></param>
</params></methodCall>
`, donor, accept))
	}
	for _, tc := range []struct {
		name string
		body func(i int64) []byte
	}{
		{"new", body},
		{"stored", func(int64) []byte { return body(0) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := benchServer(b, Platforms...)
			var next atomic.Int64
			call := func(body []byte) {
				res, err := benchClient.Post(s.url+"/xmlrpc/", "text/xml", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				out, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(out), "<name>build_id</name>") {
					b.Fatalf("%d %v %.300s", res.StatusCode, err, out)
				}
			}
			call(tc.body(next.Add(1)))
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					call(tc.body(next.Add(1)))
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// benchKeys are 65 public keys, made once for every round of the benchmark.
var benchKeys = func() func(testing.TB) []string {
	var once sync.Once
	var keys []string
	return func(tb testing.TB) []string {
		once.Do(func() {
			for range 65 {
				keys = append(keys, testKey(tb).Public.String())
			}
		})
		return keys
	}
}()
