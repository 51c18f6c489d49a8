package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// RawEvent is one history line decoded except for its value, which stays
// the exact JSON text of the line: nothing is re-encoded, so bytes are kept
// exactly (issue 15). Value is nil when the line has no value or a null one.
// A RawEvent from Reader.NextRaw aliases the reader's buffer: Value is valid
// until the next call (the strings are the reader's own and stay valid).
type RawEvent struct {
	Time    int64
	Process Process
	Type    Type
	F       string
	Key     string
	Value   []byte
	Node    string
	Error   string
	Latency int64
}

// Decode returns the event with its value decoded as Event documents it:
// numbers as json.Number, arrays as []any, objects as map[string]any.
func (r RawEvent) Decode() (Event, error) {
	v, err := DecodeValue(r.Value)
	if err != nil {
		return Event{}, fmt.Errorf("field value: %w", err)
	}
	return Event{Time: r.Time, Process: r.Process, Type: r.Type, F: r.F, Key: r.Key,
		Value: v, Node: r.Node, Error: r.Error, Latency: r.Latency}, nil
}

// field bits record which fields a line had, to report the missing ones
// and to refuse duplicates.
const (
	hasTime = 1 << iota
	hasProcess
	hasType
	hasF
	hasKey
	hasValue
	hasNode
	hasError
	hasLatency
)

var requiredFields = []struct {
	bit  int
	name string
}{{hasTime, "time"}, {hasProcess, "process"}, {hasType, "type"}, {hasF, "f"}}

// lineDecoder turns one line into a RawEvent. A fast path handles the
// shape writers produce (no escapes in names or the fields the checker
// reads); anything else goes through jsontext, which is also what words
// every error. Both refuse invalid UTF-8 and duplicate fields.
type lineDecoder struct {
	strings map[string]string // interned field strings: f, type, keys, nodes, errors
}

// maxInterned bounds the intern table, so a history of unique keys does not
// keep a second copy of each in the table.
const maxInterned = 1 << 16

func newLineDecoder() *lineDecoder { return &lineDecoder{strings: map[string]string{}} }

func (d *lineDecoder) intern(b []byte) string {
	if s, ok := d.strings[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.strings) < maxInterned {
		d.strings[s] = s
	}
	return s
}

// decode parses text (one line without its newline) into e.
func (d *lineDecoder) decode(text []byte, e *RawEvent) error {
	if !utf8.Valid(text) {
		return invalidUTF8(text)
	}
	*e = RawEvent{}
	seen, ok := d.fast(text, e)
	if !ok {
		*e = RawEvent{}
		var err error
		if seen, err = d.slow(text, e); err != nil {
			return err
		}
	}
	var missing []string
	for _, f := range requiredFields {
		if seen&f.bit == 0 {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing field(s) %v", missing)
	}
	return nil
}

func invalidUTF8(text []byte) error {
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	return fmt.Errorf("invalid UTF-8 at byte %d (byte 0x%02x): the history must be UTF-8; it is refused rather than changed", i+1, text[i])
}

// fast parses the common shape without allocating beyond interned strings.
// It reports false on anything unusual, and the slow path decides.
func (d *lineDecoder) fast(b []byte, e *RawEvent) (int, bool) {
	p := fastParser{b: b}
	seen := 0
	if !p.byte('{') {
		return 0, false
	}
	if p.peek() == '}' {
		p.i++
		return seen, p.end()
	}
	for {
		name, ok := p.plainString()
		if !ok || !p.byte(':') {
			return 0, false
		}
		bit, ok := d.fastField(&p, string(name), e)
		if !ok || seen&bit != 0 {
			return 0, false
		}
		seen |= bit
		p.space()
		if p.i >= len(p.b) {
			return 0, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return seen, p.end()
		default:
			return 0, false
		}
	}
}

func (d *lineDecoder) fastField(p *fastParser, name string, e *RawEvent) (int, bool) {
	var ok bool
	switch name {
	case "time":
		e.Time, ok = p.int()
		return hasTime, ok
	case "latency":
		e.Latency, ok = p.int()
		return hasLatency, ok
	case "process":
		p.space()
		if p.peek() == '"' {
			s, ok := p.plainString()
			e.Process = NemesisProcess
			return hasProcess, ok && string(s) == "nemesis"
		}
		id, ok := p.int()
		e.Process = Client(int(id))
		return hasProcess, ok && id >= 0 && int64(int(id)) == id
	case "value":
		v, ok := p.value()
		if ok && string(v) != "null" {
			e.Value = v
		}
		return hasValue, ok
	}
	var dst *string
	var bit int
	switch name {
	case "type":
		s, ok := p.plainString()
		e.Type = Type(d.intern(s))
		return hasType, ok
	case "f":
		dst, bit = &e.F, hasF
	case "key":
		dst, bit = &e.Key, hasKey
	case "node":
		dst, bit = &e.Node, hasNode
	case "error":
		dst, bit = &e.Error, hasError
	default:
		_, ok := p.value() // an extra field: allowed, ignored
		return 0, ok
	}
	s, ok := p.plainString()
	*dst = d.intern(s)
	return bit, ok
}

// fastParser reads the JSON subset of the fast path.
type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\r' || p.b[p.i] == '\n') {
		p.i++
	}
}

func (p *fastParser) peek() byte {
	p.space()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *fastParser) byte(c byte) bool {
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

func (p *fastParser) end() bool {
	p.space()
	return p.i == len(p.b)
}

// plainString reads a string with no escapes and no control characters.
func (p *fastParser) plainString() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// int reads an integer with no fraction or exponent.
func (p *fastParser) int() (int64, bool) {
	p.space()
	start := p.i
	if !p.number() {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	return n, err == nil
}

// number reads a JSON number.
func (p *fastParser) number() bool {
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		start := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		return p.i - start
	}
	first := p.i
	n := digits()
	if n == 0 || n > 1 && p.b[first] == '0' {
		return false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// maxFastDepth bounds nesting on the fast path; deeper values go slow.
const maxFastDepth = 32

// value reads one JSON value and returns its text.
func (p *fastParser) value() ([]byte, bool) {
	p.space()
	start := p.i
	if !p.skip(0) {
		return nil, false
	}
	return p.b[start:p.i], true
}

func (p *fastParser) skip(depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	switch c := p.peek(); {
	case c == '"':
		_, ok := p.plainString()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == '[' || c == '{':
		return p.skipComposite(c, depth)
	}
	for _, lit := range []string{"null", "true", "false"} {
		if bytes.HasPrefix(p.b[p.i:], []byte(lit)) {
			p.i += len(lit)
			return true
		}
	}
	return false
}

func (p *fastParser) skipComposite(open byte, depth int) bool {
	close := byte(']')
	if open == '{' {
		close = '}'
	}
	p.i++
	if p.peek() == close {
		p.i++
		return true
	}
	for {
		if open == '{' {
			if _, ok := p.plainString(); !ok || !p.byte(':') {
				return false
			}
		}
		if !p.skip(depth + 1) {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case close:
			p.i++
			return true
		default:
			return false
		}
	}
}

// slow decodes a line with jsontext, which validates every escape, and
// words the errors.
func (d *lineDecoder) slow(text []byte, e *RawEvent) (int, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(text))
	tok, err := dec.ReadToken()
	if err != nil {
		return 0, malformed(err)
	}
	if tok.Kind() != '{' {
		return 0, fmt.Errorf("malformed JSON: want an object, got %s", kindName(tok.Kind()))
	}
	seen := 0
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return 0, malformed(err)
		}
		name := tok.String() // the token is valid only until the next read
		raw, err := dec.ReadValue()
		if err != nil {
			return 0, malformed(err)
		}
		bit, err := d.slowField(name, raw, e)
		if err != nil {
			return 0, err
		}
		seen |= bit
	}
	if _, err := dec.ReadToken(); err != nil {
		return 0, malformed(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return 0, errors.New("malformed JSON: more than one value on the line")
	}
	return seen, nil
}

func malformed(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 'n':
		return "null"
	}
	return "a boolean"
}

// slowField stores one field decoded by jsontext. A null optional field is
// absent; a null required field is missing.
func (d *lineDecoder) slowField(name string, raw jsontext.Value, e *RawEvent) (int, error) {
	null := raw.Kind() == 'n'
	var err error
	switch name {
	case "time":
		if null {
			return 0, nil
		}
		e.Time, err = fieldInt(name, raw)
		return hasTime, err
	case "latency":
		if !null {
			e.Latency, err = fieldInt(name, raw)
		}
		return hasLatency, err
	case "process":
		if null {
			return 0, nil
		}
		return hasProcess, e.Process.UnmarshalJSON(raw)
	case "value":
		if !null {
			e.Value = bytes.Clone(raw) // the decoder reuses its buffer
		}
		return hasValue, nil
	}
	var dst *string
	var bit int
	switch name {
	case "type":
		var s string
		bit, err = d.slowString(name, raw, &s)
		e.Type = Type(s)
		return bit & hasType, err
	case "f":
		dst, bit = &e.F, hasF
	case "key":
		dst, bit = &e.Key, hasKey
	case "node":
		dst, bit = &e.Node, hasNode
	case "error":
		dst, bit = &e.Error, hasError
	default:
		return 0, nil
	}
	got, err := d.slowString(name, raw, dst)
	return got & bit, err
}

// slowString decodes a string field; null leaves it absent (bit 0).
func (d *lineDecoder) slowString(name string, raw jsontext.Value, dst *string) (int, error) {
	switch raw.Kind() {
	case 'n':
		return 0, nil
	case '"':
		s, err := jsontext.AppendUnquote(nil, raw)
		if err != nil {
			return 0, fmt.Errorf("field %s: %v", name, err)
		}
		*dst = d.intern(s)
		return ^0, nil
	}
	return 0, fmt.Errorf("field %s: %s is not a valid string", name, raw)
}

func fieldInt(name string, raw jsontext.Value) (int64, error) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %s: %s is not a valid int64", name, raw)
	}
	return n, nil
}
