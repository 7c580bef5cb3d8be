// bench.js times the browser's validator under Node, boundary included:
// the Uint8Array copied into Go, the result crossing back as JSON.parse.
//
//   node bench.js WASM_EXEC_JS VALIDATOR_WASM INPUT
//
// It warms up (the first calls grow the module's memory and let V8 compile
// the hot code), then calls the function for at least two seconds and prints
// "CALLS NS VALID": how many calls, their total time in nanoseconds, and
// whether the file was valid.
"use strict";

const fs = require("fs");
const [wasmExec, wasmFile, inputFile] = process.argv.slice(2);
globalThis.require = require;
globalThis.fs = fs;
globalThis.TextEncoder = require("util").TextEncoder;
globalThis.TextDecoder = require("util").TextDecoder;
globalThis.crypto ??= require("crypto");
require(wasmExec);

async function main() {
	const go = new Go();
	const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile), go.importObject);
	go.run(instance);
	const validate = globalThis.seattleValidateVesselinfo;
	const input = new Uint8Array(fs.readFileSync(inputFile));
	let res;
	for (let i = 0; i < 20; i++) {
		res = validate(input);
	}
	const start = process.hrtime.bigint();
	const minNS = 2_000_000_000n;
	let calls = 0;
	let ns = 0n;
	while (ns < minNS) {
		for (let i = 0; i < 10; i++) {
			res = validate(input);
		}
		calls += 10;
		ns = process.hrtime.bigint() - start;
	}
	console.log(`${calls} ${ns} ${res.valid}`);
	process.exit(0);
}

main().catch((err) => {
	console.error("bench:", err);
	process.exit(1);
});
