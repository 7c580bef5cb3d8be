// args.js calls seattleValidateVesselinfo the ways a careless page might and
// prints one line per call: JSON.stringify of the result, or "THREW: ..." if
// the call threw (it must not).
//
//   node args.js WASM_EXEC_JS VALIDATOR_WASM
"use strict";

const fs = require("fs");
const [wasmExec, wasmFile] = process.argv.slice(2);
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
	const v = globalThis.seattleValidateVesselinfo;
	const file = new TextEncoder().encode("xx Percent 100\nOwner 3 5\n");
	const calls = [
		() => v(),
		() => v("Percent 100\nOwner 3 5\n", "extra"),
		() => v(42),
		() => v(null),
		() => v(undefined),
		() => v({ text: "Percent 100" }),
		() => v(file.buffer), // an ArrayBuffer, not a Uint8Array
		() => v(file.subarray(3)), // a view into a larger buffer
		() => v(new String("Percent 100\nOwner 3 5\n")), // a String object
		() => v("Percent 100\nOwner 3 \uD800\n"), // a lone surrogate
	];
	for (const call of calls) {
		try {
			console.log(JSON.stringify(call()));
		} catch (err) {
			console.log("THREW: " + err);
		}
	}
	process.exit(0);
}

main().catch((err) => {
	console.error("args:", err);
	process.exit(1);
});
