package value

import (
	"encoding/json"
	"testing"
)

func TestKeyIsTheSameAcrossDecoders(t *testing.T) {
	same := [][]any{
		{int(7), int64(7), json.Number("7"), float64(7)},
		{nil},
		{"7"},
		{[]any{int64(1), json.Number("2")}, []any{1, 2}, []int{1, 2}},
	}
	want := []string{"7", "null", `"7"`, "[1,2]"}
	for i, group := range same {
		for _, v := range group {
			if got := Key(v); got != want[i] {
				t.Errorf("Key(%#v) = %s, want %s", v, got, want[i])
			}
		}
	}
	if Key("7") == Key(7) {
		t.Error("the string \"7\" and the number 7 must differ")
	}
}
