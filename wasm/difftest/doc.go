// Package difftest holds the differential test of the vesselinfo validator:
// the WebAssembly build, run under Node as a browser runs it, must return
// byte for byte what the native validator (and validate --json) prints, for
// thousands of generated files. It has no code of its own.
package difftest
