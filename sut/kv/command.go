package kv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Operation names carried in Command.Op.
const (
	OpGet    = "get" // a read through the log (raftd --read-mode log)
	OpPut    = "put"
	OpCas    = "cas"
	OpAppend = "append"
	OpDelete = "delete"
)

// Error strings a Result can carry.
const (
	ErrNotAList      = "not a list"
	ErrStaleSequence = "stale sequence"
	ErrUnknownOp     = "unknown op"
)

// Command is one state-machine command, as proposed to the Raft log.
type Command struct {
	Op       string `json:"op"` // "get" (ReadLog reads), "put", "cas", "append", "delete"
	Key      string `json:"key"`
	Value    any    `json:"value,omitempty"`
	Expect   any    `json:"expect,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Seq      uint64 `json:"seq,omitempty"`
	// Ack is the client's lowest seq still awaiting an answer (header
	// X-Seq-Ack): every lower seq was answered and will never be sent
	// again, so its stored result can go (Raft dissertation §6.3). 0: not
	// given; the session window alone bounds what is kept.
	Ack uint64 `json:"ack,omitempty"`
}

// Result is what applying a Command produced.
type Result struct {
	Value   any    `json:"value,omitempty"` // get: the value; append: the new list
	Found   bool   `json:"found"`
	Swapped bool   `json:"swapped"`       // cas
	Err     string `json:"err,omitempty"` // e.g. "not a list"
}

// IsWrite reports whether the operation changes state (and so takes part in
// client sessions).
func IsWrite(op string) bool {
	switch op {
	case OpPut, OpCas, OpAppend, OpDelete:
		return true
	}
	return false
}

// Validate reports a malformed command, naming the field.
func (c Command) Validate() error {
	switch c.Op {
	case OpGet, OpPut, OpCas, OpAppend, OpDelete:
	case "":
		return errors.New("kv: command field op is empty")
	default:
		return fmt.Errorf("kv: command field op: unknown operation %q", c.Op)
	}
	if c.Key == "" {
		return errors.New("kv: command field key is empty")
	}
	if err := CheckKey(c.Key); err != nil {
		return fmt.Errorf("kv: command %w", err)
	}
	if err := CheckText("field client_id", c.ClientID); err != nil {
		return fmt.Errorf("kv: command %w", err)
	}
	if err := CheckText("field value", c.Value); err != nil {
		return fmt.Errorf("kv: command %w", err)
	}
	if err := CheckText("field expect", c.Expect); err != nil {
		return fmt.Errorf("kv: command %w", err)
	}
	if c.Seq != 0 && c.ClientID == "" {
		return errors.New("kv: command field seq is set without client_id")
	}
	if c.Ack > c.Seq {
		return fmt.Errorf("kv: command field ack (%d) is above field seq (%d): a client acknowledges only seqs before its current one", c.Ack, c.Seq)
	}
	return nil
}

// EncodeCommand encodes c for the Raft log.
func EncodeCommand(c Command) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("kv: encoding %s command for key %q: %w", c.Op, c.Key, err)
	}
	return b, nil
}

// DecodeCommand decodes a command from the Raft log. Numbers decode as
// json.Number, never float64, so a value written as 42 reads back as 42.
//
// Every replica decodes every committed entry, so this is on the hot path.
// A command in the exact shape EncodeCommand writes with a scalar value
// (every put of a number or a plain string) is read by a small scanner
// (decode_fast.go); anything else, or anything the scanner is unsure of,
// goes through encoding/json. Both give the same Command.
func DecodeCommand(b []byte) (Command, error) {
	if c, ok := decodeCommandFast(b); ok {
		if err := c.Validate(); err != nil {
			return Command{}, err
		}
		return c, nil
	}
	return decodeCommandJSON(b)
}

// decodeCommandJSON is DecodeCommand through encoding/json.
func decodeCommandJSON(b []byte) (Command, error) {
	var c Command
	if err := decodeJSON(b, &c); err != nil {
		return Command{}, fmt.Errorf("kv: decoding command: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}

// decodeJSON decodes exactly one JSON value with UseNumber. Bytes that are
// not UTF-8 are an error, not U+FFFD: what EncodeCommand and Snapshot wrote
// never holds any.
func decodeJSON(b []byte, v any) error {
	if !utf8.Valid(b) {
		at, _ := invalidUTF8At(string(b))
		return fmt.Errorf("invalid UTF-8 at byte %d", at)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// normalizeValue gives v the shape it has after a JSON round trip with
// UseNumber (json.Number, string, bool, nil, []any, map[string]any), so that
// values from a decoded command and values built in Go by a caller compare,
// snapshot and read back identically.
func normalizeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, json.Number:
		return v, nil
	case int:
		return json.Number(strconv.Itoa(x)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := decodeJSON(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}
