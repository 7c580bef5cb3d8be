package builder

// A small XML-RPC codec (the specification at xmlrpc.com, without the nil
// extension, as Seattle's clients speak it). No Go XML-RPC library on the
// module proxy both dispatches on the server side and is maintained, and
// the protocol is small: a call is a method name and a list of values, a
// value is one of eight scalar types, an array or a struct. Decoding walks
// encoding/xml's tokens with explicit bounds, so a hostile body costs at most
// its size (MaxRPCBody) in memory and a bounded nesting depth.

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// XML-RPC fault codes, from the interoperability conventions most servers
// follow (Python's SimpleXMLRPCServer among them).
const (
	FaultParse         = -32700 // not well-formed XML, or too large
	FaultInvalidCall   = -32600 // XML, but not a methodCall
	FaultNoMethod      = -32601 // no such method
	FaultInvalidParams = -32602 // wrong number or type of arguments, or invalid values
	FaultInternal      = -32603 // the server failed
	FaultNoBuild       = 404    // a well-formed build ID that names no build
	FaultLimited       = 429    // too many new builds from one address
	FaultUnavailable   = 503    // the store cannot be reached; try again
)

// rpcMaxDepth bounds how deeply arrays and structs nest. The API needs three
// levels (a list of structs holding a list of names); the bound keeps a
// hostile body from building a deep tree.
const rpcMaxDepth = 16

// rpcMaxValues bounds how many values a call may hold in all.
const rpcMaxValues = 20000

// rpcFault is an XML-RPC fault: a code and a message in words.
type rpcFault struct {
	Code   int
	String string
}

func (f *rpcFault) Error() string { return fmt.Sprintf("fault %d: %s", f.Code, f.String) }

func faultf(code int, format string, args ...any) *rpcFault {
	return &rpcFault{Code: code, String: fmt.Sprintf(format, args...)}
}

// rpcStruct is a decoded XML-RPC struct. Its members keep their order only
// for error messages; lookups go through the map.
type rpcStruct map[string]any

// rpcCall is a decoded methodCall. Params hold int64, bool, string, float64,
// []byte (base64), time.Time (dateTime.iso8601), []any (array) and
// rpcStruct values.
type rpcCall struct {
	Method string
	Params []any
}

// decodeCall reads one methodCall. Every error is an *rpcFault that says
// what was wrong.
func decodeCall(r io.Reader) (*rpcCall, error) {
	d := &rpcDecoder{dec: xml.NewDecoder(r)}
	d.dec.Strict = true
	d.dec.CharsetReader = func(charset string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-8", "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q is not supported: send UTF-8", charset)
	}
	call, err := d.call()
	if err != nil {
		var f *rpcFault
		if errors.As(err, &f) {
			return nil, f
		}
		var syn *xml.SyntaxError
		if errors.As(err, &syn) && syn.Msg == "unexpected EOF" {
			return nil, faultf(FaultParse, "the request ends before the methodCall is complete (line %d)", syn.Line)
		}
		return nil, faultf(FaultParse, "the request is not well-formed XML: %v", err)
	}
	return call, nil
}

type rpcDecoder struct {
	dec    *xml.Decoder
	values int
}

// next returns the next start or end element, skipping comments,
// processing instructions and whitespace between elements. Text other than
// whitespace outside a value is an error.
func (d *rpcDecoder) next() (xml.Token, error) {
	for {
		tok, err := d.dec.Token()
		if err != nil {
			if err == io.EOF {
				return nil, faultf(FaultParse, "the request ends before the methodCall is complete")
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, faultf(FaultInvalidCall, "unexpected text %q between elements", clipText(string(t)))
			}
		case xml.Directive:
			// A DOCTYPE could declare entities; XML-RPC has no use for one.
			return nil, faultf(FaultInvalidCall, "a DOCTYPE or other directive is not allowed in XML-RPC")
		}
	}
}

// start expects the start element name.
func (d *rpcDecoder) start(name string) error {
	tok, err := d.next()
	if err != nil {
		return err
	}
	s, ok := tok.(xml.StartElement)
	if !ok || s.Name.Local != name {
		return faultf(FaultInvalidCall, "expected <%s>, found %s", name, describeToken(tok))
	}
	return nil
}

// end expects the end element name.
func (d *rpcDecoder) end(name string) error {
	tok, err := d.next()
	if err != nil {
		return err
	}
	if e, ok := tok.(xml.EndElement); !ok || e.Name.Local != name {
		return faultf(FaultInvalidCall, "expected </%s>, found %s", name, describeToken(tok))
	}
	return nil
}

func describeToken(tok xml.Token) string {
	switch t := tok.(type) {
	case xml.StartElement:
		return "<" + t.Name.Local + ">"
	case xml.EndElement:
		return "</" + t.Name.Local + ">"
	}
	return "something else"
}

// text reads character data up to the end element name.
func (d *rpcDecoder) text(name string) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.dec.Token()
		if err != nil {
			if err == io.EOF {
				return "", faultf(FaultParse, "the request ends inside <%s>", name)
			}
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			if t.Name.Local != name {
				return "", faultf(FaultInvalidCall, "expected </%s>, found </%s>", name, t.Name.Local)
			}
			return b.String(), nil
		case xml.StartElement:
			return "", faultf(FaultInvalidCall, "<%s> holds an element <%s>; it holds text only", name, t.Name.Local)
		case xml.Directive:
			return "", faultf(FaultInvalidCall, "a DOCTYPE or other directive is not allowed in XML-RPC")
		}
	}
}

func (d *rpcDecoder) call() (*rpcCall, error) {
	if err := d.start("methodCall"); err != nil {
		return nil, err
	}
	if err := d.start("methodName"); err != nil {
		return nil, err
	}
	name, err := d.text("methodName")
	if err != nil {
		return nil, err
	}
	call := &rpcCall{Method: strings.TrimSpace(name)}
	tok, err := d.next()
	if err != nil {
		return nil, err
	}
	// <params> may be left out when there are none.
	if s, ok := tok.(xml.StartElement); ok && s.Name.Local == "params" {
		for {
			tok, err := d.next()
			if err != nil {
				return nil, err
			}
			if e, ok := tok.(xml.EndElement); ok && e.Name.Local == "params" {
				break
			}
			if s, ok := tok.(xml.StartElement); !ok || s.Name.Local != "param" {
				return nil, faultf(FaultInvalidCall, "expected <param>, found %s", describeToken(tok))
			}
			if err := d.start("value"); err != nil {
				return nil, err
			}
			v, err := d.value(1)
			if err != nil {
				return nil, err
			}
			call.Params = append(call.Params, v)
			if err := d.end("param"); err != nil {
				return nil, err
			}
		}
		tok, err = d.next()
		if err != nil {
			return nil, err
		}
	}
	if e, ok := tok.(xml.EndElement); !ok || e.Name.Local != "methodCall" {
		return nil, faultf(FaultInvalidCall, "expected </methodCall>, found %s", describeToken(tok))
	}
	// Nothing but blanks and comments may follow.
	for {
		tok, err := d.dec.Token()
		if err == io.EOF {
			return call, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst:
			continue
		}
		return nil, faultf(FaultInvalidCall, "unexpected content after </methodCall>")
	}
}

// value reads what follows <value> up to and including </value>.
func (d *rpcDecoder) value(depth int) (any, error) {
	if depth > rpcMaxDepth {
		return nil, faultf(FaultInvalidCall, "values nest more than %d deep", rpcMaxDepth)
	}
	if d.values++; d.values > rpcMaxValues {
		return nil, faultf(FaultInvalidCall, "the call holds more than %d values", rpcMaxValues)
	}
	// A <value> holding only text is a string.
	var text strings.Builder
	var typed xml.StartElement
	for found := false; !found; {
		tok, err := d.dec.Token()
		if err != nil {
			if err == io.EOF {
				return nil, faultf(FaultParse, "the request ends inside <value>")
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if t.Name.Local != "value" {
				return nil, faultf(FaultInvalidCall, "expected </value>, found </%s>", t.Name.Local)
			}
			return text.String(), nil
		case xml.StartElement:
			if strings.TrimSpace(text.String()) != "" {
				return nil, faultf(FaultInvalidCall, "<value> holds both text and <%s>", t.Name.Local)
			}
			typed, found = t, true
		case xml.Directive:
			return nil, faultf(FaultInvalidCall, "a DOCTYPE or other directive is not allowed in XML-RPC")
		}
	}
	var v any
	var err error
	switch name := typed.Name.Local; name {
	case "array":
		v, err = d.array(depth)
	case "struct":
		v, err = d.structure(depth)
	case "nil":
		return nil, faultf(FaultInvalidParams, "<nil> is not part of XML-RPC and this API does not take it (Python: allow_none=False)")
	default:
		var s string
		if s, err = d.text(name); err == nil {
			v, err = scalar(name, s)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := d.end("value"); err != nil {
		return nil, err
	}
	return v, nil
}

// scalar converts the text of a scalar element of type name.
func scalar(name, s string) (any, error) {
	switch name {
	case "string":
		return s, nil
	case "int", "i4", "i8":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || (name != "i8" && (n < math.MinInt32 || n > math.MaxInt32)) {
			return nil, faultf(FaultInvalidParams, "<%s>%s</%s> is not a valid integer", name, clipText(s), name)
		}
		return n, nil
	case "boolean":
		switch strings.TrimSpace(s) {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return nil, faultf(FaultInvalidParams, "<boolean> must be 0 or 1, not %q", clipText(s))
	case "double":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, faultf(FaultInvalidParams, "<double>%s</double> is not a number", clipText(s))
		}
		return f, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, faultf(FaultInvalidParams, "<base64> is not valid base64: %v", err)
		}
		return b, nil
	case "dateTime.iso8601":
		for _, layout := range []string{"20060102T15:04:05", "2006-01-02T15:04:05", "20060102T150405"} {
			if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				return t, nil
			}
		}
		return nil, faultf(FaultInvalidParams, "<dateTime.iso8601>%s</dateTime.iso8601> is not a date", clipText(s))
	}
	return nil, faultf(FaultInvalidCall, "<%s> is not an XML-RPC type", name)
}

func (d *rpcDecoder) array(depth int) ([]any, error) {
	if err := d.start("data"); err != nil {
		return nil, err
	}
	out := []any{}
	for {
		tok, err := d.next()
		if err != nil {
			return nil, err
		}
		if e, ok := tok.(xml.EndElement); ok && e.Name.Local == "data" {
			break
		}
		if s, ok := tok.(xml.StartElement); !ok || s.Name.Local != "value" {
			return nil, faultf(FaultInvalidCall, "expected <value> in <data>, found %s", describeToken(tok))
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, d.end("array")
}

func (d *rpcDecoder) structure(depth int) (rpcStruct, error) {
	out := rpcStruct{}
	for {
		tok, err := d.next()
		if err != nil {
			return nil, err
		}
		if e, ok := tok.(xml.EndElement); ok && e.Name.Local == "struct" {
			return out, nil
		}
		if s, ok := tok.(xml.StartElement); !ok || s.Name.Local != "member" {
			return nil, faultf(FaultInvalidCall, "expected <member> in <struct>, found %s", describeToken(tok))
		}
		if err := d.start("name"); err != nil {
			return nil, err
		}
		name, err := d.text("name")
		if err != nil {
			return nil, err
		}
		if err := d.start("value"); err != nil {
			return nil, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, dup := out[name]; dup {
			return nil, faultf(FaultInvalidParams, "a struct names the member %q twice", clipText(name))
		}
		out[name] = v
		if err := d.end("member"); err != nil {
			return nil, err
		}
	}
}

func clipText(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// rpcTypeName names a decoded value's XML-RPC type, for error messages.
func rpcTypeName(v any) string {
	switch v.(type) {
	case int64:
		return "an integer"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case float64:
		return "a double"
	case []byte:
		return "base64 data"
	case time.Time:
		return "a date"
	case []any:
		return "an array"
	case rpcStruct:
		return "a struct"
	}
	return "an unknown value"
}

// encodeResponse writes a methodResponse holding v, which is a string, an
// int, a bool, a []string, a map[string]string or a map[string]any of those.
func encodeResponse(w *bytes.Buffer, v any) {
	w.WriteString("<?xml version=\"1.0\"?>\n<methodResponse><params><param>")
	encodeValue(w, v)
	w.WriteString("</param></params></methodResponse>\n")
}

// encodeFault writes a methodResponse holding the fault.
func encodeFault(w *bytes.Buffer, f *rpcFault) {
	w.WriteString("<?xml version=\"1.0\"?>\n<methodResponse><fault>")
	encodeValue(w, map[string]any{"faultCode": f.Code, "faultString": f.String})
	w.WriteString("</fault></methodResponse>\n")
}

func encodeValue(w *bytes.Buffer, v any) {
	if m, ok := v.(map[string]string); ok {
		generic := make(map[string]any, len(m))
		for k, s := range m {
			generic[k] = s
		}
		v = generic
	}
	w.WriteString("<value>")
	switch v := v.(type) {
	case string:
		w.WriteString("<string>")
		xml.EscapeText(w, []byte(v))
		w.WriteString("</string>")
	case int:
		w.WriteString("<int>" + strconv.Itoa(v) + "</int>")
	case bool:
		b := "0"
		if v {
			b = "1"
		}
		w.WriteString("<boolean>" + b + "</boolean>")
	case []string:
		w.WriteString("<array><data>")
		for _, s := range v {
			encodeValue(w, s)
		}
		w.WriteString("</data></array>")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.WriteString("<struct>")
		for _, k := range keys {
			w.WriteString("<member><name>")
			xml.EscapeText(w, []byte(k))
			w.WriteString("</name>")
			encodeValue(w, v[k])
			w.WriteString("</member>")
		}
		w.WriteString("</struct>")
	default:
		// A programming error; every caller passes the types above.
		panic(fmt.Sprintf("builder: cannot encode %T as XML-RPC", v))
	}
	w.WriteString("</value>")
}
