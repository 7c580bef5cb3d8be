package seattlekey

import (
	"crypto/rand"
	"testing"
)

// BenchmarkGenerate2048 is what an operator waits for when the upload page
// generates a key pair (the same code compiled to WebAssembly runs in the
// browser): wasm/keybench.sh runs it natively and under Node and prints the
// medians. Key generation time varies a lot from key to key (it searches
// for primes), so take the median of several runs.
func BenchmarkGenerate2048(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(rand.Reader, DefaultBits); err != nil {
			b.Fatal(err)
		}
	}
}
