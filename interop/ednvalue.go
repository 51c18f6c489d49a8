package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strconv"

	"olympos.io/encoding/edn"

	"github.com/faultline/faultline/history"
)

// fromEDN turns a decoded EDN value into a history value: numbers become
// json.Number (as the JSONL reader decodes them), keywords and symbols their
// names, sets sorted lists, maps map[string]any, tagged literals their
// value.
func fromEDN(v any) any {
	switch x := v.(type) {
	case nil, string, bool:
		return x
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case big.Int:
		return json.Number(x.String())
	case *big.Int:
		return json.Number(x.String())
	case edn.Keyword:
		return string(x)
	case edn.Symbol:
		return string(x)
	case rune:
		return string(x)
	case edn.Tag:
		return fromEDN(x.Value)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromEDN(e)
		}
		return out
	case map[any]bool: // a set
		out := make([]any, 0, len(x))
		for e := range x {
			out = append(out, fromEDN(e))
		}
		slices.SortFunc(out, func(a, b any) int { return compareValues(a, b) })
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[ednText(k)] = fromEDN(e)
		}
		return out
	}
	return fmt.Sprint(v)
}

// compareValues orders numbers numerically and everything else by its
// canonical form, so a set read becomes the list a sorted set read is.
func compareValues(a, b any) int {
	na, aok := a.(json.Number)
	nb, bok := b.(json.Number)
	if aok && bok {
		fa, errA := strconv.ParseFloat(string(na), 64)
		fb, errB := strconv.ParseFloat(string(nb), 64)
		if errA == nil && errB == nil && fa != fb {
			if fa < fb {
				return -1
			}
			return 1
		}
	}
	ka, kb := history.ValueKey(a), history.ValueKey(b)
	switch {
	case ka < kb:
		return -1
	case ka > kb:
		return 1
	}
	return 0
}

// ednText is the plain text of a scalar EDN value: a keyword or symbol
// without its colon, a string as is, anything else as EDN.
func ednText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case edn.Keyword:
		return string(x)
	case edn.Symbol:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case nil:
		return ""
	}
	b, err := edn.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// toEDN turns a history value into one the EDN encoder writes as Jepsen
// would: json.Number as an integer (or float), map keys as keywords.
func toEDN(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f
		}
		var b big.Int
		if _, ok := b.SetString(string(x), 10); ok {
			return &b
		}
		return string(x)
	case map[string]any:
		out := make(map[edn.Keyword]any, len(x))
		for k, e := range x {
			out[edn.Keyword(k)] = toEDN(e)
		}
		return out
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
		return nil // encodes as JSON null, so it stays nil
	}
	if list, ok := history.List(v); ok {
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = toEDN(e)
		}
		return out
	}
	return v
}

// writeEDN appends the EDN form of a toEDN value to buf, with map keys in
// sorted order so the same history always exports to the same bytes.
func writeEDN(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case map[edn.Keyword]any:
		keys := make([]edn.Keyword, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteString(", ")
			}
			buf.WriteString(k.String())
			buf.WriteByte(' ')
			if err := writeEDN(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(' ')
			}
			if err := writeEDN(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	}
	b, err := edn.Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}
