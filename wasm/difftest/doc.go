// Package difftest holds the differential test of the vesselinfo validator:
// the WebAssembly build, run under Node as a browser runs it, must return
// byte for byte what the native validator (and validate --json) prints, for
// thousands of generated files. The same holds for the plan: seattlePlan
// under Node must return what it returned when it used encoding/json, for
// thousands of generated and hostile calls (plan_test.go). It has no code
// of its own.
package difftest
