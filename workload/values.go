package workload

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/faultline/faultline/history"
)

// normalizeValue turns a value decoded from a server answer into the form the
// history uses: integers as int64 (whether they came as json.Number or
// float64), other numbers as json.Number, lists element by element. Nothing
// is ever recorded as float64, so large integers survive and the checker
// compares like with like.
func normalizeValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		return int64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	}
	return v
}

// asList reads the value of a set or append key: absent is the empty list, a
// list is normalized element by element. A value that is not a list is
// returned as it is, so the checker sees exactly what the server said.
func asList(v any, found bool) any {
	if !found || v == nil {
		return []any{}
	}
	v = normalizeValue(v)
	if list, ok := v.([]any); ok {
		return list
	}
	return v
}

// asSet turns a list read from a set key into a set: duplicates dropped,
// elements in ascending order, so two reads of the same set record the
// same value.
func asSet(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	seen := make(map[string]bool, len(list))
	set := make([]any, 0, len(list))
	for _, e := range list {
		k := history.ValueKey(e)
		if !seen[k] {
			seen[k] = true
			set = append(set, e)
		}
	}
	slices.SortFunc(set, compareElements)
	return set
}

// compareElements orders integers numerically and everything else by its
// canonical text, integers first.
func compareElements(a, b any) int {
	ai, aInt := a.(int64)
	bi, bInt := b.(int64)
	switch {
	case aInt && bInt:
		return cmp.Compare(ai, bi)
	case aInt:
		return -1
	case bInt:
		return 1
	}
	return cmp.Compare(history.ValueKey(a), history.ValueKey(b))
}
