package nodeman

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// The node manager stores nodeman.cfg as the repr() of a Python dict and
// reads it back with Python, so the installer reads and writes the subset of
// Python literals such a repr holds: dicts, lists, tuples, strings, integers
// (Python 2's "123L" too), floats, True, False and None.

// Value is one Python literal: nil (None), bool, *big.Int, Float, string,
// List, Tuple or *Dict.
type Value any

// Float keeps a float literal's text as written, so a key the installer does
// not own is written back exactly as it was read.
type Float string

// List is a Python list.
type List []Value

// Tuple is a Python tuple.
type Tuple []Value

// Dict is a Python dict that keeps its keys in the order read or set, so the
// file the installer writes differs from the one it read only where it
// changed something.
type Dict struct {
	keys []Value
	vals []Value
}

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in order.
func (d *Dict) Keys() []Value { return append([]Value(nil), d.keys...) }

// Get returns the value of the string key k.
func (d *Dict) Get(k string) (Value, bool) {
	for i, key := range d.keys {
		if s, ok := key.(string); ok && s == k {
			return d.vals[i], true
		}
	}
	return nil, false
}

// Set sets the string key k, in place when it exists, else at the end.
func (d *Dict) Set(k string, v Value) {
	for i, key := range d.keys {
		if s, ok := key.(string); ok && s == k {
			d.vals[i] = v
			return
		}
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// Delete removes the string key k if present.
func (d *Dict) Delete(k string) {
	for i, key := range d.keys {
		if s, ok := key.(string); ok && s == k {
			d.keys = append(d.keys[:i], d.keys[i+1:]...)
			d.vals = append(d.vals[:i], d.vals[i+1:]...)
			return
		}
	}
}

// Limits on what Parse accepts: a real nodeman.cfg is a few kilobytes.
const (
	MaxSize   = 1 << 20 // bytes
	maxDepth  = 32      // nesting of containers
	maxDigits = 4300    // digits of one integer (Python 3.11's own limit)
)

// SyntaxError is a literal Parse cannot read, with the byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg) }

// Parse reads one Python literal, surrounded by optional blanks.
func Parse(src []byte) (Value, error) {
	if len(src) > MaxSize {
		return nil, fmt.Errorf("%d bytes is more than the %d a configuration may have", len(src), MaxSize)
	}
	p := &parser{src: string(src)}
	p.blank()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.blank()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q after the value", p.peekText())
	}
	return v, nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) peekText() string {
	end := p.pos + 10
	if end > len(p.src) {
		end = len(p.src)
	}
	return p.src[p.pos:end]
}

func (p *parser) blank() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		case '\\':
			// A line continuation, as a hand-edited file may have.
			if strings.HasPrefix(p.src[p.pos:], "\\\n") {
				p.pos += 2
				continue
			}
			if strings.HasPrefix(p.src[p.pos:], "\\\r\n") {
				p.pos += 3
				continue
			}
			return
		case '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (Value, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested more than %d deep", maxDepth)
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("the text ends where a value should be")
	}
	c := p.src[p.pos]
	switch {
	case c == '{':
		return p.dict(depth)
	case c == '[':
		items, err := p.items(depth, '[', ']')
		return List(items), err
	case c == '(':
		start := p.pos
		items, trailing, err := p.itemsComma(depth, '(', ')')
		if err != nil {
			return nil, err
		}
		if len(items) == 1 && !trailing {
			_ = start
			return items[0], nil // (x) is x, not a tuple
		}
		return Tuple(items), nil
	case c == '\'' || c == '"':
		return p.str()
	case (c == 'u' || c == 'U' || c == 'b' || c == 'B') && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '\'' || p.src[p.pos+1] == '"'):
		p.pos++
		return p.str()
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, w := range []struct {
		word string
		v    Value
	}{{"True", true}, {"False", false}, {"None", nil}} {
		if strings.HasPrefix(p.src[p.pos:], w.word) && !identChar(p.src, p.pos+len(w.word)) {
			p.pos += len(w.word)
			return w.v, nil
		}
	}
	return nil, p.errorf("%q is not a Python literal", p.peekText())
}

func identChar(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) items(depth int, open, close byte) ([]Value, error) {
	items, _, err := p.itemsComma(depth, open, close)
	return items, err
}

// itemsComma reads "open v, v, ... close"; trailing says whether a comma
// came after the last item.
func (p *parser) itemsComma(depth int, open, close byte) (items []Value, trailing bool, err error) {
	p.pos++ // open
	items = []Value{}
	for {
		p.blank()
		if p.pos >= len(p.src) {
			return nil, false, p.errorf("the text ends before the closing %q", close)
		}
		if p.src[p.pos] == close {
			p.pos++
			return items, trailing, nil
		}
		if len(items) > 0 && !trailing {
			return nil, false, p.errorf("expected ',' or %q, found %q", close, p.peekText())
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, false, err
		}
		items = append(items, v)
		p.blank()
		trailing = false
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			trailing = true
		}
	}
}

func (p *parser) dict(depth int) (Value, error) {
	p.pos++ // {
	d := &Dict{}
	comma := true
	for {
		p.blank()
		if p.pos >= len(p.src) {
			return nil, p.errorf("the text ends before the closing '}'")
		}
		if p.src[p.pos] == '}' {
			p.pos++
			return d, nil
		}
		if !comma {
			return nil, p.errorf("expected ',' or '}', found %q", p.peekText())
		}
		keyAt := p.pos
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		switch k.(type) {
		case List, *Dict:
			return nil, &SyntaxError{keyAt, "a list or dict cannot be a key"}
		}
		p.blank()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("expected ':' after a key")
		}
		p.pos++
		p.blank()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if s, ok := k.(string); ok {
			if _, dup := d.Get(s); dup {
				return nil, &SyntaxError{keyAt, fmt.Sprintf("the key %q appears twice", s)}
			}
			d.Set(s, v)
		} else {
			d.keys = append(d.keys, k)
			d.vals = append(d.vals, v)
		}
		p.blank()
		comma = false
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			comma = true
		}
	}
}

func (p *parser) str() (Value, error) {
	q := p.src[p.pos]
	triple := strings.HasPrefix(p.src[p.pos:], strings.Repeat(string(q), 3))
	if triple {
		p.pos += 3
	} else {
		p.pos++
	}
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return nil, p.errorf("a string is not closed")
		}
		c := p.src[p.pos]
		switch {
		case triple && strings.HasPrefix(p.src[p.pos:], strings.Repeat(string(q), 3)):
			p.pos += 3
			return b.String(), nil
		case !triple && c == q:
			p.pos++
			return b.String(), nil
		case !triple && c == '\n':
			return nil, p.errorf("a string is not closed on its line")
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return nil, err
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

func (p *parser) escape(b *strings.Builder) error {
	p.pos++ // backslash
	if p.pos >= len(p.src) {
		return p.errorf("a string ends in a backslash")
	}
	c := p.src[p.pos]
	p.pos++
	simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'n': "\n", 'r': "\r", 't': "\t", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '\n': ""}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return nil
	}
	hex := func(n int) (uint64, error) {
		if p.pos+n > len(p.src) {
			return 0, p.errorf("a \\%c escape needs %d hex digits", c, n)
		}
		v, err := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 32)
		if err != nil {
			return 0, p.errorf("a \\%c escape needs %d hex digits", c, n)
		}
		p.pos += n
		return v, nil
	}
	switch c {
	case 'x':
		v, err := hex(2)
		if err != nil {
			return err
		}
		b.WriteByte(byte(v))
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		v, err := hex(n)
		if err != nil {
			return err
		}
		if v > 0x10FFFF {
			return p.errorf("\\%c%0*x is not a character", c, n, v)
		}
		b.WriteRune(rune(v))
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := uint64(c - '0')
		for i := 0; i < 2 && p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '7'; i++ {
			v = v*8 + uint64(p.src[p.pos]-'0')
			p.pos++
		}
		b.WriteByte(byte(v))
	default:
		// Python keeps an unknown escape as written.
		b.WriteByte('\\')
		b.WriteByte(c)
	}
	return nil
}

func (p *parser) number() (Value, error) {
	start := p.pos
	if c := p.src[p.pos]; c == '-' || c == '+' {
		p.pos++
		p.blank()
	}
	sign := strings.TrimSpace(p.src[start:p.pos])
	numStart := p.pos
	isFloat := false
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c >= '0' && c <= '9', c == '_':
		case c == '.':
			isFloat = true
		case c == 'e' || c == 'E':
			isFloat = true
			if p.pos+1 < len(p.src) && (p.src[p.pos+1] == '-' || p.src[p.pos+1] == '+') {
				p.pos++
			}
		case c == 'x' || c == 'X' || c == 'o' || c == 'O' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			// hex and octal integers
		default:
			goto done
		}
		p.pos++
	}
done:
	text := p.src[numStart:p.pos]
	if text == "" {
		return nil, p.errorf("a sign without a number")
	}
	if len(text) > maxDigits {
		return nil, &SyntaxError{start, fmt.Sprintf("a number of more than %d digits", maxDigits)}
	}
	if isFloat && !strings.ContainsAny(text, "xX") {
		if _, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64); err != nil {
			return nil, &SyntaxError{start, fmt.Sprintf("%q is not a number", text)}
		}
		return Float(sign + text), nil
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'L' || p.src[p.pos] == 'l') {
		p.pos++ // Python 2's long integers
	}
	n, ok := new(big.Int).SetString(sign+text, 0)
	if !ok {
		// Python 2 wrote octal as 0755.
		n, ok = new(big.Int).SetString(sign+text, 8)
		if !ok || !strings.HasPrefix(text, "0") {
			return nil, &SyntaxError{start, fmt.Sprintf("%q is not a number", text)}
		}
	}
	return n, nil
}

// Format writes v as a Python literal both Python 2 and Python 3 read back
// (ast.literal_eval, or the node manager's own reader).
func Format(v Value) (string, error) {
	var b strings.Builder
	if err := format(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func format(b *strings.Builder, v Value) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case *big.Int:
		if x == nil {
			return errors.New("a nil integer")
		}
		b.WriteString(x.String())
	case Float:
		b.WriteString(string(x))
	case float64:
		b.WriteString(formatFloat(x))
	case string:
		b.WriteString(Quote(x))
	case List:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := format(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case Tuple:
		b.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := format(b, e); err != nil {
				return err
			}
		}
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *Dict:
		b.WriteByte('{')
		for i := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := format(b, x.keys[i]); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := format(b, x.vals[i]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("%T is not a Python literal", v)
	}
	return nil
}

func formatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eIN") {
		s += ".0"
	}
	return s
}

// Quote writes s as a single-quoted Python string literal. Bytes outside
// printable ASCII are written as \xNN escapes: the node manager runs on
// Python 2, whose plain strings are bytes.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\'':
			b.WriteString(`\'`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
