package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultName is the file name Read uses in its errors: the contract's name
// of the history file.
const DefaultName = "history.jsonl"

// ParseError is a malformed or ill-formed line of a history file.
type ParseError struct {
	File string
	Line int // 1-based
	Msg  string
	// Truncated is set when the offending line is the last one and has no
	// newline: the writer most likely stopped mid-event (a crash), and every
	// event before it is intact.
	Truncated bool
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Mode says how a Reader treats a last line without a newline.
type Mode int

const (
	// Strict is for checking a finished history: every line must be a
	// well-formed event, and a last line without a newline is one too (or a
	// Truncated ParseError when it does not parse).
	Strict Mode = iota
	// Tolerant is for a file still being written: a last line without a
	// newline is a write in progress. Next reports io.EOF before it and
	// reads it once the rest of it has arrived (call Next again after the
	// file grows). Everything else is as strict as Strict.
	Tolerant
)

// Reader streams the events of a history in the JSONL contract of
// docs/history.md, validating each one as it comes. It is
// the one reader of history files: checking, reports and live followers
// all read through it. Errors are *ParseError values naming the file and
// line. After a ParseError on a complete line, Next may be called again: the
// bad line is skipped (it does not count as an event) and reading goes on,
// for callers that list problems instead of stopping.
//
// Values are kept exactly: a line that is not valid UTF-8, or whose strings
// escape invalid code points, is refused with its line, never repaired.
type Reader struct {
	r    io.Reader
	name string
	mode Mode
	dec  *lineDecoder
	v    *validator

	buf        []byte // unread bytes; buf[start:] is not yet consumed
	start      int
	eof        bool  // the underlying reader reported io.EOF
	line       int   // lines consumed so far
	offset     int64 // bytes of the lines consumed so far
	eventLine  int   // line of the last event returned
	eventIndex int   // index of the last event returned
}

// NewReader reads r; name is what errors call the file.
func NewReader(r io.Reader, name string, mode Mode) *Reader {
	return &Reader{r: r, name: name, mode: mode, dec: newLineDecoder(), v: newValidator(), eventIndex: -1}
}

// Line is the 1-based line of the event Next last returned.
func (r *Reader) Line() int { return r.eventLine }

// Index is the 0-based index of the event Next last returned, among the
// events accepted (the index Op.Invoke and anomalies use).
func (r *Reader) Index() int { return r.eventIndex }

// Offset is how many bytes of complete lines have been consumed: where a
// follower resumes if it reopens the file.
func (r *Reader) Offset() int64 { return r.offset }

// Events is the number of events accepted so far.
func (r *Reader) Events() int { return r.v.n }

// Next returns the next event, with its value decoded. At the end it
// returns io.EOF.
func (r *Reader) Next() (Event, error) {
	raw, err := r.NextRaw()
	if err != nil {
		return Event{}, err
	}
	// The value was validated by NextRaw: decoding it cannot fail.
	e, err := raw.Decode()
	if err != nil {
		return Event{}, r.errorAt(r.eventLine, err.Error(), false)
	}
	return e, nil
}

// NextRaw is Next without decoding the value: RawEvent.Value is the exact
// JSON text, valid until the next call. It is the checker's fast path.
func (r *Reader) NextRaw() (RawEvent, error) {
	for {
		text, complete, err := r.readLine()
		if err != nil {
			return RawEvent{}, err
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		var e RawEvent
		if err := r.dec.decode(text, &e); err != nil {
			if !complete {
				return RawEvent{}, r.errorAt(r.line, fmt.Sprintf(
					"truncated last line (the writer stopped mid-event; %d events before it are intact): %v", r.v.n, err), true)
			}
			return RawEvent{}, r.errorAt(r.line, err.Error(), false)
		}
		if err := r.v.add(rawShape(&e)); err != nil {
			return RawEvent{}, r.errorAt(r.line, err.Error(), false)
		}
		r.eventLine, r.eventIndex = r.line, r.v.n-1
		return e, nil
	}
}

func (r *Reader) errorAt(line int, msg string, truncated bool) error {
	return &ParseError{File: r.name, Line: line, Msg: msg, Truncated: truncated}
}

// readChunk is how much a Reader asks of the underlying reader at once.
const readChunk = 256 << 10

// readLine returns the next line without its newline; complete is false
// for a last line that has no newline. In Tolerant mode such a line is held
// back (io.EOF) until its newline arrives.
func (r *Reader) readLine() (text []byte, complete bool, err error) {
	for {
		if i := bytes.IndexByte(r.buf[r.start:], '\n'); i >= 0 {
			text = r.buf[r.start : r.start+i]
			r.start += i + 1
			r.line++
			r.offset += int64(i + 1)
			return text, true, nil
		}
		if r.eof {
			r.eof = false // a follower may call again after the file grows
			rest := r.buf[r.start:]
			if len(rest) == 0 || r.mode == Tolerant {
				return nil, false, io.EOF
			}
			r.start = len(r.buf)
			r.line++
			r.offset += int64(len(rest))
			return rest, false, nil
		}
		if err := r.fill(); err != nil {
			return nil, false, fmt.Errorf("%s:%d: %w", r.name, r.line+1, err)
		}
	}
}

// fill reads more input, keeping the unconsumed bytes.
func (r *Reader) fill() error {
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:])
		r.buf, r.start = r.buf[:n], 0
	}
	if cap(r.buf)-len(r.buf) < readChunk/2 {
		grown := make([]byte, len(r.buf), max(2*cap(r.buf), len(r.buf)+readChunk))
		copy(grown, r.buf)
		r.buf = grown
	}
	n, err := r.r.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	if errors.Is(err, io.EOF) {
		r.eof = true
		return nil
	}
	return err
}

// Read decodes and validates a whole history (Strict). Errors name the line
// as "history.jsonl:57: ..."; on error the events read before the bad line
// are returned too, so nothing recorded is lost.
func Read(r io.Reader) ([]Event, error) { return ReadNamed(r, DefaultName) }

// ReadFile reads and validates the history file at path; errors name path and line.
func ReadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	return ReadNamed(f, path)
}

// ReadNamed is Read with the file name to use in errors.
func ReadNamed(r io.Reader, name string) ([]Event, error) {
	hr := NewReader(r, name, Strict)
	var events []Event
	for {
		e, err := hr.Next()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, e)
	}
}

// DecodeValue decodes the JSON text of a value as Event documents it (nil
// for no text). The text must come from a Reader, which validated it.
func DecodeValue(raw []byte) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// RawValueKey is ValueKey of the value whose JSON text is raw, without
// decoding it when the text is already in ValueKey's form (numbers, plain
// ASCII strings, arrays of those written without spaces).
func RawValueKey(raw []byte) string {
	if len(raw) == 0 {
		return "null"
	}
	if canonicalText(raw) {
		return string(raw)
	}
	return decodedValueKey(raw)
}

func decodedValueKey(raw []byte) string {
	v, err := DecodeValue(raw)
	if err != nil {
		return string(raw)
	}
	return ValueKey(v)
}

// canonicalText reports whether ValueKey would give back raw itself:
// printable ASCII without escapes, spaces, objects or the characters
// encoding/json escapes in arrays (<, >, &).
func canonicalText(raw []byte) bool {
	composite := raw[0] == '['
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c <= ' ' || c >= 0x7f || c == '\\' || c == '{':
			return false
		case composite && (c == '<' || c == '>' || c == '&'):
			return false
		}
	}
	return true
}

// RawList splits the JSON text of an array into the texts of its elements
// (reporting false for anything else). Elements with escapes come back
// re-encoded, which keeps their RawValueKey.
func RawList(raw []byte) ([][]byte, bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	p := fastParser{b: raw, i: 1}
	var out [][]byte
	if p.peek() == ']' {
		return [][]byte{}, true
	}
	for {
		el, ok := p.value()
		if !ok {
			return rawListSlow(raw)
		}
		out = append(out, el)
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			return out, true
		default:
			return rawListSlow(raw)
		}
	}
}

func rawListSlow(raw []byte) ([][]byte, bool) {
	v, err := DecodeValue(raw)
	list, ok := v.([]any)
	if err != nil || !ok {
		return nil, false
	}
	out := make([][]byte, len(list))
	for i, el := range list {
		if out[i], err = json.Marshal(el); err != nil {
			return nil, false
		}
	}
	return out, true
}
