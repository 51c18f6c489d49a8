package kv

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// decodeCommandFast reads a command in the shape json.Marshal gives a
// Command: one object, no white space, members named exactly as Command's
// tags, each at most once, strings without escapes, a scalar value and
// expectation. ok is false for anything else (an escape, a list value, a
// duplicate member, a malformed byte), and the caller then decodes with
// encoding/json, which has the last word on every input this declines.
func decodeCommandFast(b []byte) (c Command, ok bool) {
	if !utf8.Valid(b) {
		return Command{}, false
	}
	d := fastDecoder{b: b}
	if !d.byte('{') {
		return Command{}, false
	}
	var seen [7]bool
	for first := true; ; first = false {
		if d.byte('}') {
			return c, d.i == len(b)
		}
		if !first && !d.byte(',') {
			return Command{}, false
		}
		name, ok := d.plainString()
		if !ok || !d.byte(':') {
			return Command{}, false
		}
		field := fieldIndex(name)
		if field < 0 || seen[field] {
			return Command{}, false
		}
		seen[field] = true
		switch field {
		case 0:
			c.Op, ok = d.plainString()
		case 1:
			c.Key, ok = d.plainString()
		case 2:
			c.Value, ok = d.scalar()
		case 3:
			c.Expect, ok = d.scalar()
		case 4:
			c.ClientID, ok = d.plainString()
		case 5:
			c.Seq, ok = d.uint()
		case 6:
			c.Ack, ok = d.uint()
		}
		if !ok {
			return Command{}, false
		}
	}
}

// fieldIndex numbers Command's JSON members; -1 for any other name (which
// encoding/json would match case-insensitively or ignore).
func fieldIndex(name string) int {
	switch name {
	case "op":
		return 0
	case "key":
		return 1
	case "value":
		return 2
	case "expect":
		return 3
	case "client_id":
		return 4
	case "seq":
		return 5
	case "ack":
		return 6
	}
	return -1
}

// fastDecoder walks b from i.
type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// plainString reads a string without escapes or control characters.
func (d *fastDecoder) plainString() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := string(d.b[start:d.i])
			d.i++
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// scalar reads a plain string, a number (as json.Number), true, false or
// null; ok is false for a list, an object or anything else.
func (d *fastDecoder) scalar() (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.plainString()
	case c == '-' || ('0' <= c && c <= '9'):
		start := d.i
		d.i = scanNumber(d.b, d.i)
		if d.i < 0 {
			return nil, false
		}
		return json.Number(d.b[start:d.i]), true
	}
	for _, lit := range [...]struct {
		text string
		v    any
	}{{"null", nil}, {"true", true}, {"false", false}} {
		if end := d.i + len(lit.text); end <= len(d.b) && string(d.b[d.i:end]) == lit.text {
			d.i = end
			return lit.v, true
		}
	}
	return nil, false
}

// uint reads a non-negative integer without sign, fraction or exponent
// that fits in uint64, as encoding/json accepts for a uint64 field.
func (d *fastDecoder) uint() (uint64, bool) {
	start := d.i
	end := scanNumber(d.b, d.i)
	if end < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.b[start:end]), 10, 64)
	if err != nil {
		return 0, false
	}
	d.i = end
	return n, true
}

// scanNumber returns the end of the JSON number starting at b[i] (RFC 8259:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?), or -1 when there
// is none.
func scanNumber(b []byte, i int) int {
	digits := func(i int) int {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	default:
		if i = digits(i); i < 0 {
			return -1
		}
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}

// ReadScalar reads the JSON scalar at the start of b as encoding/json with
// UseNumber would decode it: a number (json.Number), a string without
// escapes or control characters, true, false or null. It returns the bytes
// after it; ok is false for anything else (a list, an object, an escape),
// which the caller must then decode with encoding/json. b must be valid
// UTF-8. raftd's HTTP handlers use it for the common {"value":v} body.
func ReadScalar(b []byte) (v any, rest []byte, ok bool) {
	d := fastDecoder{b: b}
	if v, ok = d.scalar(); !ok {
		return nil, b, false
	}
	return v, b[d.i:], true
}
