// Package value owns the canonical form of the values that clients write,
// the system under test stores and the checker reads back: the one rule by
// which a value decoded as int64, as json.Number or as a list is the same
// value. raftd's state machine compares values with it (cas) and the checker
// (history, check) compares histories with it, so both always agree. It
// imports nothing of the project.
package value

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Key is a canonical string form of v, for comparing and hashing values
// that came from different decoders (ints, json.Number, strings).
func Key(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case json.Number:
		return x.String()
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return strconv.Quote(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
