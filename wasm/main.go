//go:build js && wasm

// Command wasm is the browser's copy of the vesselinfo validator. It registers
// one global function, seattleValidateVesselinfo(text), that returns
//
//	{valid: bool, vessels: [{percent, owner, users}], errors: [{line, message}]}
//
// with keys as "e n" strings. The argument is the file's text, or its bytes
// as a Uint8Array. Every rule lives in package vesselinfo; this file
// only converts arguments and results, and never lets a Go error or panic
// reach JavaScript.
package main

import (
	"fmt"
	"syscall/js"

	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

func main() {
	js.Global().Set("seattleValidateVesselinfo", js.FuncOf(validate))
	select {} // keep the function alive for the page's lifetime
}

func validate(_ js.Value, args []js.Value) (out any) {
	defer func() {
		if r := recover(); r != nil {
			out = failure(fmt.Sprintf("internal error in the validator: %v", r))
		}
	}()
	if len(args) != 1 {
		return failure("seattleValidateVesselinfo needs one argument: the text of the file, or its bytes as a Uint8Array")
	}
	var src []byte
	switch arg := args[0]; {
	case arg.Type() == js.TypeString:
		src = []byte(arg.String())
	case arg.InstanceOf(js.Global().Get("Uint8Array")):
		// Bytes as read from a file, invalid UTF-8 and all, exactly as the
		// native validator sees them.
		src = make([]byte, arg.Length())
		js.CopyBytesToGo(src, arg)
	default:
		return failure("seattleValidateVesselinfo needs the text of the file (a string) or its bytes (a Uint8Array)")
	}
	// The result crosses as JSON text: one string copy instead of a call per
	// field, and exactly the bytes that validate --json prints natively.
	res := vesselinfo.Validate(src)
	return js.Global().Get("JSON").Call("parse", string(res.JSON()))
}

func failure(msg string) js.Value {
	res := vesselinfo.Result{Errors: vesselinfo.Errors{{Line: 1, Message: msg}}}
	return js.Global().Get("JSON").Call("parse", string(res.JSON()))
}
