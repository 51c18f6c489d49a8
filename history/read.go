package history

import (
	"bufio"
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

// Read decodes and validates a history in the JSONL contract of DESIGN.md.
// Errors name the line as "history.jsonl:57: ..."; on error the events read
// before the bad line are returned too, so nothing recorded is lost.
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
	br := bufio.NewReaderSize(r, 64<<10)
	v := newValidator()
	var events []Event
	for line := 1; ; line++ {
		raw, readErr := br.ReadBytes('\n')
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			return events, fmt.Errorf("%s:%d: %w", name, line, readErr)
		}
		complete := len(raw) > 0 && raw[len(raw)-1] == '\n'
		text := bytes.TrimSpace(raw)
		if len(text) > 0 {
			e, err := decodeLine(text)
			if err == nil {
				if err = v.add(e); err == nil {
					events = append(events, e)
				}
			} else if !complete {
				return events, &ParseError{File: name, Line: line, Truncated: true,
					Msg: fmt.Sprintf("truncated last line (the writer stopped mid-event; %d events before it are intact): %v", len(events), err)}
			}
			if err != nil {
				return events, &ParseError{File: name, Line: line, Msg: err.Error()}
			}
		}
		if readErr != nil { // io.EOF
			return events, nil
		}
	}
}

// wireEvent mirrors Event with pointers for the fields that must be present.
type wireEvent struct {
	Time    *int64   `json:"time"`
	Process *Process `json:"process"`
	Type    *Type    `json:"type"`
	F       *string  `json:"f"`
	Key     string   `json:"key"`
	Value   any      `json:"value"`
	Node    string   `json:"node"`
	Error   string   `json:"error"`
	Latency int64    `json:"latency"`
}

// decodeLine decodes one JSON object, keeping numbers as json.Number.
func decodeLine(text []byte) (Event, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var w wireEvent
	if err := dec.Decode(&w); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return Event{}, fmt.Errorf("malformed JSON: want an object, got %s", typeErr.Value)
			}
			return Event{}, fmt.Errorf("field %s: %s is not a valid %s", typeErr.Field, typeErr.Value, typeErr.Type)
		}
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return Event{}, fmt.Errorf("malformed JSON: %v", err)
		}
		return Event{}, err
	}
	if dec.More() {
		return Event{}, fmt.Errorf("malformed JSON: more than one value on the line")
	}
	var missing []string
	if w.Time == nil {
		missing = append(missing, "time")
	}
	if w.Process == nil {
		missing = append(missing, "process")
	}
	if w.Type == nil {
		missing = append(missing, "type")
	}
	if w.F == nil {
		missing = append(missing, "f")
	}
	if len(missing) > 0 {
		return Event{}, fmt.Errorf("missing field(s) %v", missing)
	}
	return Event{Time: *w.Time, Process: *w.Process, Type: *w.Type, F: *w.F, Key: w.Key,
		Value: w.Value, Node: w.Node, Error: w.Error, Latency: w.Latency}, nil
}
