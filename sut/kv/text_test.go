package kv

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// exactKeys are keys the store must keep byte for byte: NUL, U+FFFD itself,
// characters JSON escapes, the longest allowed.
var exactKeys = []string{
	"a\x00b",
	"a\ufffdb",
	"<&>\u2028\"\\",
	"\U0001F600",
	strings.Repeat("k", MaxKeyBytes),
}

// TestExactKeysAndValuesThroughLogAndSnapshot puts every exact key with a
// value holding the same kinds of text, sends each command through the log
// codec, snapshots and restores the store, and reads every key back
// unchanged.
func TestExactKeysAndValuesThroughLogAndSnapshot(t *testing.T) {
	s := New(nil)
	want := map[string]any{}
	for i, k := range exactKeys {
		v := []any{"x\x00y", "\ufffd", map[string]any{"n\x00": k}}
		c := roundTrip(t, Command{Op: OpPut, Key: k, Value: v, ClientID: fmt.Sprintf("c\x00%d", i), Seq: uint64(i + 1)})
		if c.Key != k {
			t.Fatalf("log codec changed key %q to %q", k, c.Key)
		}
		if res := s.Apply(uint64(i+1), c); res.Err != "" {
			t.Fatalf("put %q: %s", k, res.Err)
		}
		want[k] = v
	}
	img, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r := New(nil)
	if err := r.Restore(img); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		got, found := r.Get(k)
		if !found || !reflect.DeepEqual(got, v) {
			t.Fatalf("key %q after snapshot: %#v (found %v), want %#v", k, got, found, v)
		}
	}
}

// TestTextJSONCannotCarryIsRefused: bytes that are not UTF-8, anywhere in a
// command, are refused naming the field, never encoded as U+FFFD.
func TestTextJSONCannotCarryIsRefused(t *testing.T) {
	long := strings.Repeat("k", MaxKeyBytes+1)
	for _, tc := range []struct {
		c    Command
		want string
	}{
		{Command{Op: OpPut, Key: "a\xffb", Value: 1}, `key "a\xffb": invalid UTF-8 at byte 1`},
		{Command{Op: OpPut, Key: long, Value: 1}, "key: 8193 bytes, over the 8192-byte limit"},
		{Command{Op: OpPut, Key: "..", Value: 1}, `key "..": a dot segment`},
		{Command{Op: OpPut, Key: "k", Value: "x\xffy"}, `field value: string "x\xffy": invalid UTF-8 at byte 1`},
		{Command{Op: OpAppend, Key: "k", Value: []any{1, map[string]any{"a": "\xfe"}}}, `field value[1]["a"]`},
		{Command{Op: OpPut, Key: "k", Value: map[string]any{"\xc3": 1}}, "field value: member name"},
		{Command{Op: OpCas, Key: "k", Expect: "\xed\xa0\x80", Value: 1}, "field expect"},
		{Command{Op: OpPut, Key: "k", Value: 1, ClientID: "c\x80", Seq: 1}, "field client_id"},
	} {
		_, err := EncodeCommand(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("EncodeCommand(%+q) = %v, want an error containing %s", tc.c.Key, err, tc.want)
		}
	}
	// A command decoded from the log is held to the same rule.
	if _, err := DecodeCommand([]byte("{\"op\":\"put\",\"key\":\"a\xffb\"}")); err == nil || !strings.Contains(err.Error(), "invalid UTF-8") {
		t.Errorf("DecodeCommand of a key with a raw 0xff: %v", err)
	}
	type named struct{ Name string }
	for _, v := range []any{[]string{"ok", "\xff"}, map[string]string{"k": "\xfe"}, &named{Name: "\x80"}, map[int][]string{1: {"\xc3"}}} {
		if err := CheckText("field value", v); err == nil || !strings.Contains(err.Error(), "invalid UTF-8") {
			t.Errorf("CheckText(%#v) = %v, want invalid UTF-8", v, err)
		}
	}
	var n json.Number = "1"
	if err := CheckText("value", []any{n, true, nil, "ok"}); err != nil {
		t.Errorf("CheckText of valid scalars: %v", err)
	}
}
