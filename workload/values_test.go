package workload

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestNormalizeValue(t *testing.T) {
	cases := []struct{ in, want any }{
		{json.Number("42"), int64(42)},
		{json.Number("1.5"), json.Number("1.5")},
		{float64(7), int64(7)},
		{float64(2.5), json.Number("2.5")},
		{"x", "x"},
		{nil, nil},
		{[]any{json.Number("1"), float64(2), "a"}, []any{int64(1), int64(2), "a"}},
	}
	for _, c := range cases {
		if got := normalizeValue(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("normalizeValue(%#v) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestListAndSetReads(t *testing.T) {
	if got := asList(nil, false); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("absent list = %#v, want empty list", got)
	}
	list := []any{json.Number("3"), json.Number("1"), json.Number("3"), "b", json.Number("2")}
	if got := asList(list, true); !reflect.DeepEqual(got, []any{int64(3), int64(1), int64(3), "b", int64(2)}) {
		t.Errorf("asList kept order wrong: %#v", got)
	}
	if got := asSet(asList(list, true)); !reflect.DeepEqual(got, []any{int64(1), int64(2), int64(3), "b"}) {
		t.Errorf("asSet = %#v, want ascending and duplicate-free", got)
	}
	if got := asList("scalar", true); got != "scalar" {
		t.Errorf("a non-list must be recorded as it is, got %#v", got)
	}
}

func TestLimiterSpacesSlots(t *testing.T) {
	l := newLimiter(100) // 10 ms apart
	t0 := time.Unix(1000, 0)
	a := l.reserve(t0)
	b := l.reserve(t0)
	c := l.reserve(t0.Add(time.Millisecond))
	if !a.Equal(t0) || b.Sub(a) != 10*time.Millisecond || c.Sub(b) != 10*time.Millisecond {
		t.Fatalf("slots %v %v %v, want 10 ms apart from t0", a, b, c)
	}
	// After an idle second the next slot is now, not a burst of old slots.
	later := t0.Add(time.Second)
	if d := l.reserve(later); !d.Equal(later) {
		t.Fatalf("after idling, slot %v, want %v", d, later)
	}
	if newLimiter(0).interval != 0 {
		t.Fatal("rate 0 must be unlimited")
	}
}
