package kv

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// The exact-bytes rule. Keys, client ids and every string inside a value
// travel as JSON text (the HTTP API, the Raft log, snapshots), and JSON can
// carry only valid UTF-8: Go's encoder and decoder silently replace any other
// byte with U+FFFD, which would acknowledge one key or value and store
// another, and make keys that differ only in such bytes alias each other.
// So raftd keeps text byte for byte when it is valid UTF-8 (NUL and every
// other code point included) and refuses anything else, naming the key or
// field, before anything is proposed.

// MaxKeyBytes bounds a key. Longer keys are refused rather than cut; the
// bound keeps a request line far inside the HTTP server's header limit.
const MaxKeyBytes = 8 << 10

// CheckKey reports a key raftd cannot store exactly: empty, longer than
// MaxKeyBytes, not valid UTF-8, or "." and "..", which no URL can carry.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("key: empty")
	case len(key) > MaxKeyBytes:
		return fmt.Errorf("key: %d bytes, over the %d-byte limit", len(key), MaxKeyBytes)
	case key == "." || key == "..":
		// A URL path segment "." or ".." is resolved away by every HTTP
		// stack (RFC 3986 §5.2.4) before raftd sees it.
		return fmt.Errorf("key %q: a dot segment cannot be addressed in a URL path", key)
	}
	if at, bad := invalidUTF8At(key); bad {
		return fmt.Errorf("key %s: invalid UTF-8 at byte %d", quoteBytes(key), at)
	}
	return nil
}

// CheckText reports the first string in v that is not valid UTF-8, with
// name saying where v came from ("field value", "header X-Client-Id"). It walks the shapes
// a JSON value decodes to (string, []any, map[string]any and the scalars),
// object member names included, and names the path: value[2]["a"].
func CheckText(name string, v any) error {
	switch x := v.(type) {
	case string:
		if at, bad := invalidUTF8At(x); bad {
			return fmt.Errorf("%s: string %s: invalid UTF-8 at byte %d", name, quoteBytes(x), at)
		}
	case []any:
		for i, e := range x {
			if err := CheckText(name+"["+strconv.Itoa(i)+"]", e); err != nil {
				return err
			}
		}
	case map[string]any:
		for member, e := range x {
			if at, bad := invalidUTF8At(member); bad {
				return fmt.Errorf("%s: member name %s: invalid UTF-8 at byte %d", name, quoteBytes(member), at)
			}
			if err := CheckText(name+"["+strconv.Quote(member)+"]", e); err != nil {
				return err
			}
		}
	case nil, bool, json.Number:
	default:
		return checkTextOf(name, reflect.ValueOf(v))
	}
	return nil
}

// checkTextOf is CheckText for values a caller built in Go with other types
// ([]string, structs, pointers): every string json.Marshal would write.
func checkTextOf(name string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		return CheckText(name, v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkTextOf(name, v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // []byte is written as base64
		}
		for i := range v.Len() {
			if err := checkTextOf(name+"["+strconv.Itoa(i)+"]", v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			member := fmt.Sprint(it.Key().Interface())
			if err := CheckText(name+" member name", member); err != nil {
				return err
			}
			if err := checkTextOf(name+"["+strconv.Quote(member)+"]", it.Value()); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				if err := checkTextOf(name+"."+f.Name, v.Field(i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// invalidUTF8At is the offset of the first byte of s that does not start a
// valid UTF-8 sequence.
func invalidUTF8At(s string) (int, bool) {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i, true
			}
		}
	}
	return 0, false
}

// quoteBytes quotes s for an error message with every invalid byte shown as
// \xNN, so the message names the bytes the client sent.
func quoteBytes(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
