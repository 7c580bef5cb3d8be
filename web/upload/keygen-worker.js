// The upload page's key generator, in a Web Worker so that the page stays
// responsive while Go's crypto/rsa (keygen.wasm) searches for primes. The
// page sends {id, bits, wasmExec, keygen} (the URLs of wasm_exec.js and
// keygen.wasm) and gets {id, publicKey, privateKey} or {id, error}. Nothing
// here talks to the server except to fetch those two files.
"use strict";

let ready = null;

self.onmessage = async (ev) => {
  const m = ev.data;
  try {
    if (!ready) {
      ready = (async () => {
        importScripts(m.wasmExec);
        const go = new Go();
        const res = await WebAssembly.instantiateStreaming(fetch(m.keygen), go.importObject);
        go.run(res.instance); // registers seattleGenerateKeyPair, then waits for ever
      })();
    }
    await ready;
    const r = self.seattleGenerateKeyPair(m.bits);
    self.postMessage({ id: m.id, publicKey: r.publicKey, privateKey: r.privateKey, error: r.error });
  } catch (err) {
    ready = null;
    self.postMessage({ id: m.id, error: String(err) });
  }
};
