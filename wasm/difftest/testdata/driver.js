// driver.js runs the browser's validator under Node on many inputs in one
// process, for the differential test (difftest_test.go).
//
//   node driver.js WASM_EXEC_JS VALIDATOR_WASM INPUTS OUTPUT
//
// INPUTS is a sequence of records: a 4-byte little-endian length, one flag
// byte (1: also validate the input as a JavaScript string) and the bytes.
// OUTPUT gets one line per call: JSON.stringify of the result for the bytes
// (passed as a Uint8Array), then, when flagged, for the string (decoded as
// UTF-8, which the test sets only for valid UTF-8).
"use strict";

const fs = require("fs");
const [wasmExec, wasmFile, inputsFile, outputFile] = process.argv.slice(2);
if (!outputFile) {
	console.error("usage: node driver.js WASM_EXEC_JS VALIDATOR_WASM INPUTS OUTPUT");
	process.exit(2);
}

// What the Go loader expects of its host, as go_js_wasm_exec provides it.
globalThis.require = require;
globalThis.fs = fs;
globalThis.path = require("path");
globalThis.TextEncoder = require("util").TextEncoder;
globalThis.TextDecoder = require("util").TextDecoder;
globalThis.crypto ??= require("crypto");
require(wasmExec);

async function main() {
	const go = new Go();
	const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile), go.importObject);
	go.run(instance); // main registers the function, then waits for calls
	const validate = globalThis.seattleValidateVesselinfo;
	if (typeof validate !== "function") {
		throw new Error("the module did not register seattleValidateVesselinfo");
	}

	const inputs = fs.readFileSync(inputsFile);
	const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
	const out = [];
	let calls = 0;
	for (let pos = 0; pos < inputs.length; ) {
		const len = inputs.readUInt32LE(pos);
		const asString = inputs[pos + 4] === 1;
		const bytes = new Uint8Array(inputs.buffer, inputs.byteOffset + pos + 5, len);
		pos += 5 + len;
		out.push(JSON.stringify(validate(bytes)));
		calls++;
		if (asString) {
			// ignoreBOM keeps a leading byte-order mark in the string, so that
			// the string holds exactly the bytes and the validator strips it.
			out.push(JSON.stringify(validate(decoder.decode(bytes))));
			calls++;
		}
	}
	fs.writeFileSync(outputFile, out.join("\n") + "\n");
	console.error(`driver: ${calls} calls`);
	process.exit(0); // the Go program waits forever for more calls
}

main().catch((err) => {
	console.error("driver:", err);
	process.exit(1);
});
