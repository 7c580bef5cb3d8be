//go:build js && wasm

// Command wasm is the browser's copy of the vesselinfo validator. It registers
// one global function, seattleValidateVesselinfo(text), that returns
//
//	{valid: bool, vessels: [{percent, owner, users}], errors: [{line, message}]}
//
// with keys as "e n" strings. The argument is the file's text, or its bytes
// as a Uint8Array.
//
// It also registers seattlePlan(vesselinfoText, maximums, offcut, percent),
// the donation plan of package plan (the install's own code) as a plan.View,
// which the donor's page calls while the donor moves the percentage;
// maximums and offcut are objects of resource name to number. Every rule lives in package vesselinfo; this file
// only converts arguments and results, and never lets a Go error or panic
// reach JavaScript.
package main

import (
	"syscall/js"

	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/wasm/plan"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

func main() {
	js.Global().Set("seattleValidateVesselinfo", js.FuncOf(validate))
	js.Global().Set("seattlePlan", js.FuncOf(preview))
	select {} // keep the function alive for the page's lifetime
}

// Looked up once rather than on every call: each lookup crosses into
// JavaScript.
var (
	stringSlice = js.Global().Get("String").Get("prototype").Get("slice")
	uint8Array  = js.Global().Get("Uint8Array")
	jsonObject  = js.Global().Get("JSON")
)

func validate(_ js.Value, args []js.Value) (out any) {
	defer func() {
		if r := recover(); r != nil {
			out = failure("internal error in the validator: " + describe(r))
		}
	}()
	if len(args) != 1 {
		return failure("seattleValidateVesselinfo needs one argument: the text of the file, or its bytes as a Uint8Array")
	}
	// Only the first MaxSize+1 bytes (or UTF-16 units, each at least one
	// byte of UTF-8) are copied in: that is enough for the validator to
	// refuse a file that is too large, as the CLI does after reading as much.
	const keep = vesselinfo.MaxSize + 1
	var src []byte
	switch arg := args[0]; {
	case arg.Type() == js.TypeString:
		// A primitive string has no methods as far as syscall/js is
		// concerned (Length and Call panic), so slice it the long way.
		// slice returns the string itself when it is short enough.
		arg = stringSlice.Call("call", arg, 0, keep)
		src = []byte(arg.String())
	case arg.InstanceOf(uint8Array):
		// Bytes as read from a file, invalid UTF-8 and all, exactly as the
		// native validator sees them.
		if arg.Length() > keep {
			arg = arg.Call("subarray", 0, keep)
		}
		src = make([]byte, arg.Length())
		js.CopyBytesToGo(src, arg)
	default:
		return failure("seattleValidateVesselinfo needs the text of the file (a string) or its bytes (a Uint8Array)")
	}
	// The result crosses as JSON text: one string copy instead of a call per
	// field, and exactly the bytes that validate --json prints natively.
	res := vesselinfo.Validate(src)
	return jsonObject.Call("parse", string(res.JSON()))
}

func failure(msg string) js.Value {
	res := vesselinfo.Result{Errors: vesselinfo.Errors{{Line: 1, Message: msg}}}
	return jsonObject.Call("parse", string(res.JSON()))
}

// describe says what a recovered panic was without fmt, which would add a
// sixth to the size of the module (encoding/json, which would add a third,
// is kept out too: package plan reads and writes seattlePlan's JSON).
func describe(r any) string {
	switch r := r.(type) {
	case error:
		return r.Error()
	case string:
		return r
	}
	return "unexpected panic"
}

// preview is seattlePlan: the arguments cross as JSON text, the View back
// as a parsed object.
func preview(_ js.Value, args []js.Value) (out any) {
	defer func() {
		if r := recover(); r != nil {
			out = jsonObject.Call("parse", `{"ok":false,"problem":"The plan could not be worked out.","resources":[],"vessels":[],"short":[]}`)
		}
	}()
	bad := func() any {
		return jsonObject.Call("parse", `{"ok":false,"problem":"The plan could not be worked out.","resources":[],"vessels":[],"short":[]}`)
	}
	if len(args) != 4 || args[0].Type() != js.TypeString || args[3].Type() != js.TypeNumber {
		return bad()
	}
	src := stringSlice.Call("call", args[0], 0, vesselinfo.MaxSize+1).String()
	values := func(v js.Value) (resource.Values, bool) {
		if v.Type() != js.TypeObject {
			return nil, false
		}
		out, err := plan.DecodeValues([]byte(jsonObject.Call("stringify", v).String()))
		return out, err == nil
	}
	max, ok1 := values(args[1])
	offcut, ok2 := values(args[2])
	if !ok1 || !ok2 {
		return bad()
	}
	b, err := plan.Preview([]byte(src), max, offcut, args[3].Float()).JSON()
	if err != nil {
		return bad()
	}
	return jsonObject.Call("parse", string(b))
}
