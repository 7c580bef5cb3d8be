//go:build js && wasm

// Command keygen is the upload page's key generator: Go's crypto/rsa,
// through package seattlekey, compiled to WebAssembly and run in a Web
// Worker (web/upload/keygen-worker.js) so that the page stays responsive
// while it searches for primes. It registers one global function,
//
//	seattleGenerateKeyPair(bits) → {publicKey: "e n", privateKey: "d p q"} | {error}
//
// It is a module of its own, loaded only when an operator generates a key,
// so that the validator every visitor loads stays small. A private key it
// makes stays in the browser: the page offers it as a download and never
// sends it.
package main

import (
	"crypto/rand"
	"syscall/js"

	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

func main() {
	js.Global().Set("seattleGenerateKeyPair", js.FuncOf(generate))
	select {} // keep the function alive for the worker's lifetime
}

func generate(_ js.Value, args []js.Value) (out any) {
	defer func() {
		if r := recover(); r != nil {
			out = map[string]any{"error": "internal error in the key generator"}
		}
	}()
	bits := seattlekey.DefaultBits
	if len(args) > 0 && args[0].Type() == js.TypeNumber {
		bits = args[0].Int()
	}
	p, err := seattlekey.Generate(rand.Reader, bits)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"publicKey": p.Public.String(), "privateKey": p.Private.String()}
}
