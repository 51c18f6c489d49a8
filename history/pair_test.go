package history

import (
	"math"
	"strings"
	"testing"
)

func TestPair(t *testing.T) {
	events := []Event{
		{Time: 10, Process: Client(1), Type: Invoke, F: FWrite, Key: "a", Value: 1},
		{Time: 11, Process: Client(2), Type: Invoke, F: FRead, Key: "a"},
		{Time: 12, Process: NemesisProcess, Type: Info, F: "pause-start"},
		{Time: 13, Process: Client(1), Type: Ok, F: FWrite, Key: "a", Value: 1, Node: "n1"},
		{Time: 14, Process: Client(2), Type: Ok, F: FRead, Key: "a", Value: 1, Node: "n2"},
		{Time: 15, Process: Client(3), Type: Invoke, F: FCas, Key: "a", Value: []int{1, 2}},
		{Time: 16, Process: Client(3), Type: Fail, F: FCas, Key: "a", Value: []int{1, 2}},
		{Time: 17, Process: Client(4), Type: Invoke, F: FWrite, Key: "a", Value: 3},
	}
	ops, err := Pair(events)
	if err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{Process: 1, F: FWrite, Key: "a", Input: 1, Output: 1, Call: 10, Return: 13, Type: Ok, Node: "n1", Invoke: 0, Complete: 3},
		{Process: 2, F: FRead, Key: "a", Input: nil, Output: 1, Call: 11, Return: 14, Type: Ok, Node: "n2", Invoke: 1, Complete: 4},
		{Process: 3, F: FCas, Key: "a", Input: []int{1, 2}, Call: 15, Return: 16, Type: Fail, Invoke: 5, Complete: 6},
		{Process: 4, F: FWrite, Key: "a", Input: 3, Call: 17, Return: math.MaxInt64, Type: Info, Invoke: 7, Complete: -1},
	}
	if len(ops) != len(want) {
		t.Fatalf("got %d ops, want %d: %+v", len(ops), len(want), ops)
	}
	for i := range want {
		if ops[i].Input == nil != (want[i].Input == nil) || ops[i].Call != want[i].Call || ops[i].Return != want[i].Return ||
			ops[i].Type != want[i].Type || ops[i].Node != want[i].Node || ops[i].Invoke != want[i].Invoke ||
			ops[i].Complete != want[i].Complete || ops[i].Process != want[i].Process || ops[i].F != want[i].F ||
			ValueKey(ops[i].Output) != ValueKey(want[i].Output) {
			t.Errorf("op %d = %+v, want %+v", i, ops[i], want[i])
		}
	}
}

func TestPairNamesTheBadEvent(t *testing.T) {
	events := []Event{
		{Time: 1, Process: Client(1), Type: Invoke, F: FRead, Key: "a"},
		{Time: 2, Process: Client(2), Type: Ok, F: FRead, Key: "a"},
	}
	ops, err := Pair(events)
	if err == nil || !strings.HasPrefix(err.Error(), "history event 1: ") {
		t.Fatalf("err = %v", err)
	}
	if len(ops) != 1 {
		t.Fatalf("ops before the error lost: %+v", ops)
	}
}

func TestNemesisIntervals(t *testing.T) {
	events := []Event{
		{Time: 1, Process: NemesisProcess, Type: Info, F: "partition-start", Value: map[string]any{"groups": []any{[]any{"n1"}, []any{"n2", "n3"}}}},
		{Time: 2, Process: NemesisProcess, Type: Info, F: "kill-start", Value: "n2"},
		{Time: 3, Process: Client(1), Type: Invoke, F: FRead, Key: "a"},
		{Time: 4, Process: NemesisProcess, Type: Info, F: "partition-end"},
		{Time: 5, Process: NemesisProcess, Type: Info, F: "clock-bump", Value: map[string]any{"offset_ms": 200}},
		{Time: 6, Process: NemesisProcess, Type: Info, F: "pause-end"},
		{Time: 7, Process: NemesisProcess, Type: Info, F: "kill-start", Value: "n3"},
		{Time: 8, Process: NemesisProcess, Type: Info, F: "kill-end", Value: "n3"},
		{Time: 9, Process: Client(1), Type: Ok, F: FRead, Key: "a"},
	}
	got := NemesisIntervals(events)
	want := []Interval{
		{Kind: "partition", Start: 1, End: 4, StartEvent: 0, EndEvent: 3, Description: `partition {"groups":[["n1"],["n2","n3"]]}`, Detail: `{"groups":[["n1"],["n2","n3"]]}`},
		{Kind: "kill", Start: 2, End: 9, StartEvent: 1, EndEvent: -1, Description: `kill "n2"`, Detail: `"n2"`},
		{Kind: "clock-bump", Start: 5, End: 5, StartEvent: 4, EndEvent: 4, Description: `clock-bump {"offset_ms":200}`, Detail: `{"offset_ms":200}`},
		{Kind: "kill", Start: 7, End: 8, StartEvent: 6, EndEvent: 7, Description: `kill "n3"`, Detail: `"n3"`, EndDetail: `"n3"`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("interval %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if !got[1].Open() || got[0].Open() {
		t.Error("Open() wrong")
	}
}

// An end closes the open start of its kind whose value it repeats (the
// nemesis writes the start's value plus how the heal went), else the oldest.
func TestNemesisIntervalsPairByRepeatedValue(t *testing.T) {
	a := map[string]any{"mode": "one", "nodes": []any{"n1"}}
	b := map[string]any{"mode": "one", "nodes": []any{"n2"}}
	bHealed := map[string]any{"mode": "one", "nodes": []any{"n2"}, "healed_by": "heal-all"}
	events := []Event{
		{Time: 1, Process: NemesisProcess, Type: Info, F: "kill-start", Value: a},
		{Time: 2, Process: NemesisProcess, Type: Info, F: "kill-start", Value: b},
		{Time: 3, Process: NemesisProcess, Type: Info, F: "kill-end", Value: bHealed},
		{Time: 4, Process: NemesisProcess, Type: Info, F: "pause-start"},
		{Time: 5, Process: NemesisProcess, Type: Info, F: "pause-start"},
		{Time: 6, Process: NemesisProcess, Type: Info, F: "pause-end", Value: map[string]any{"other": 1}},
		{Time: 7, Process: NemesisProcess, Type: Info, F: "kill-end"},
	}
	got := NemesisIntervals(events)
	ends := map[int]int{} // start event -> end event
	for _, iv := range got {
		ends[iv.StartEvent] = iv.EndEvent
	}
	want := map[int]int{0: 6, 1: 2, 3: 5, 4: -1}
	for start, end := range want {
		if ends[start] != end {
			t.Errorf("fault started at event %d ended at %d, want %d (%+v)", start, ends[start], end, got)
		}
	}
	if got[1].EndDetail != `{"healed_by":"heal-all","mode":"one","nodes":["n2"]}` {
		t.Errorf("end detail %q", got[1].EndDetail)
	}
}
