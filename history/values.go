package history

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// List returns the elements of a list value: the []any a decoder produces, or
// any Go slice or array an in-memory event may carry (e.g. []int{42, 43}).
// It reports false for anything that is not a list, including nil.
func List(v any) ([]any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case []any:
		return x, true
	case string:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	if rv.Kind() == reflect.Slice && rv.IsNil() {
		return []any{}, true
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// AppendValue appends the JSON text of an in-memory value as encoding/json
// writes it, without reflection for the values histories hold (numbers,
// strings, lists of them). A string that is not UTF-8 is refused: JSON
// would have to change it.
func AppendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case json.Number:
		if x == "" {
			return append(b, '0'), nil
		}
		return append(b, x...), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case string:
		if !utf8.ValidString(x) {
			return b, fmt.Errorf("string %q is not valid UTF-8", x)
		}
		if plainString(x) {
			return append(append(append(b, '"'), x...), '"'), nil
		}
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, el := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendValue(b, el); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	j, err := json.Marshal(v)
	return append(b, j...), err
}

// plainString reports whether JSON writes s between quotes unchanged.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
