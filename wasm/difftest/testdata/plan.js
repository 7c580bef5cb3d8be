// plan.js calls the browser's seattlePlan under Node on many argument
// lists, for the differential test of the plan (plan_test.go).
//
//   node plan.js WASM_EXEC_JS VALIDATOR_WASM CASES OUTPUT
//
// CASES is a JSON array of calls, each an array of JavaScript expressions,
// one per argument (so that a call can pass what JSON cannot: functions,
// NaN, undefined, cyclic objects, throwing getters). OUTPUT gets one line
// per call: JSON.stringify of {result} or {threw} (seattlePlan must never
// throw), and of how each argument looks to the module: its type, its
// JSON.stringify text (or that stringify threw), a string's text, a
// number's value.
"use strict";

const fs = require("fs");
const [wasmExec, wasmFile, casesFile, outputFile] = process.argv.slice(2);
if (!outputFile) {
	console.error("usage: node plan.js WASM_EXEC_JS VALIDATOR_WASM CASES OUTPUT");
	process.exit(2);
}
globalThis.require = require;
globalThis.fs = fs;
globalThis.TextEncoder = require("util").TextEncoder;
globalThis.TextDecoder = require("util").TextDecoder;
globalThis.crypto ??= require("crypto");
require(wasmExec);

function describe(v) {
	const d = { type: v === null ? "null" : typeof v };
	try {
		const text = JSON.stringify(v);
		d.text = text === undefined ? null : text;
	} catch (err) {
		d.throws = String(err);
	}
	if (typeof v === "string") d.str = v;
	if (typeof v === "number") d.num = String(v);
	return d;
}

async function main() {
	const go = new Go();
	const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile), go.importObject);
	go.run(instance);
	const plan = globalThis.seattlePlan;
	if (typeof plan !== "function") {
		throw new Error("the module did not register seattlePlan");
	}
	const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
	const out = [];
	for (const exprs of cases) {
		const args = exprs.map((e) => new Function("return (" + e + ");")());
		const line = { args: args.map(describe) };
		try {
			line.result = plan(...args);
		} catch (err) {
			line.threw = String(err);
		}
		out.push(JSON.stringify(line));
	}
	fs.writeFileSync(outputFile, out.join("\n") + "\n");
	console.error(`plan.js: ${cases.length} calls`);
	process.exit(0);
}

main().catch((err) => {
	console.error("plan.js:", err);
	process.exit(1);
});
