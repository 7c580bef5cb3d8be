package vesselinfo

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
)

// keyFile is a realistic large vesselinfo: vessels vessels of equal share,
// each with one Owner and users User lines, keys the size of RSA-1024 Seattle
// keys (e of 5-6 digits, n of 309 digits). Deterministic for a given seed.
func keyFile(vessels, users int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	key := func(label string) {
		b.WriteString(label)
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(10000 + r.IntN(990000)))
		b.WriteByte(' ')
		b.WriteByte(byte('1' + r.IntN(9)))
		for range 308 {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		b.WriteByte('\n')
	}
	for range vessels {
		b.WriteString("Percent ")
		b.WriteString(strconv.Itoa(100 / vessels))
		b.WriteByte('\n')
		key("Owner")
		for range users {
			key("User")
		}
	}
	return b.Bytes()
}

// BenchmarkParse validates a 10,000-key file (10 vessels, 1 owner and 999
// users each): the figure the issue sets is 300 MB/s natively, and the
// WebAssembly build within 3x of that under Node.
func BenchmarkParse(b *testing.B) {
	src := keyFile(10, 999, 1)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		vs, err := Parse(src)
		if err != nil || len(vs) != 10 {
			b.Fatalf("Parse: %d vessels, %v", len(vs), err)
		}
	}
}

// BenchmarkValidateJSON is the whole job of validate --json and of the
// browser's function (less the copies across the JavaScript boundary): parse
// the same file and write the result as JSON.
func BenchmarkValidateJSON(b *testing.B) {
	src := keyFile(10, 999, 1)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if out := Validate(src).JSON(); len(out) < len(src)/2 {
			b.Fatalf("JSON of %d bytes for %d bytes of input", len(out), len(src))
		}
	}
}

// BenchmarkParseInvalid is the same file with a mistake in its last line,
// so that every key is checked and then thrown away.
func BenchmarkParseInvalid(b *testing.B) {
	src := keyFile(10, 999, 1)
	src = append(src, "User 3 x\n"...)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err == nil {
			b.Fatal("Parse accepted a bad key")
		}
	}
}
