package history

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Interval is a period during which a fault was active, from the nemesis
// events of a history.
type Interval struct {
	// Kind is the fault: the f of its events without "-start"/"-end"
	// (e.g. "partition"), or the whole f of a one-shot event.
	Kind       string
	Start, End int64 // ns
	StartEvent int   // index of the start event
	EndEvent   int   // index of the end event; -1 when the fault was never ended
	// Description is the kind and the start event's value ("kill {...}").
	Description string
	// Detail and EndDetail are the start and end events' values as compact
	// JSON ("" for none).
	Detail, EndDetail string
}

// Open reports whether the fault was never ended: it runs to the end of the history.
func (iv Interval) Open() bool { return iv.EndEvent < 0 }

// Faults pairs the fault events of a history as they stream by, by the one
// rule every reader of histories uses:
//
//   - an event whose f ends in "-start" opens an interval of its kind;
//   - an event whose f ends in "-end" closes the oldest open interval of the
//     same kind whose start value it repeats (the end's value equals the
//     start's, or, for objects, holds every field of the start's with the
//     same value: the nemesis writes the start's value plus how the heal
//     went), else the oldest open interval of that kind; an end with no
//     open start is ignored;
//   - any other nemesis event is a point interval;
//   - a start never ended runs to the last event time of the history.
//
// The zero value is ready to use.
type Faults struct {
	out   []Interval
	open  map[string][]int // kind -> indexes into out, oldest first
	start []any            // start values, by index into out
	last  int64
}

// Add takes the event with the given index in the history; client events
// only move the end of the history.
func (f *Faults) Add(index int, e Event) {
	f.last = max(f.last, e.Time)
	if !e.Process.Nemesis {
		return
	}
	if f.open == nil {
		f.open = map[string][]int{}
	}
	switch {
	case strings.HasSuffix(e.F, "-start"):
		kind := strings.TrimSuffix(e.F, "-start")
		f.open[kind] = append(f.open[kind], len(f.out))
		f.push(Interval{Kind: kind, Start: e.Time, StartEvent: index, EndEvent: -1}, e.Value)
	case strings.HasSuffix(e.F, "-end"):
		kind := strings.TrimSuffix(e.F, "-end")
		q := f.open[kind]
		if len(q) == 0 {
			return
		}
		pick := 0
		if j := slices.IndexFunc(q, func(k int) bool { return repeats(e.Value, f.start[k]) }); j >= 0 {
			pick = j
		}
		iv := &f.out[q[pick]]
		iv.End, iv.EndEvent, iv.EndDetail = e.Time, index, compactJSON(e.Value)
		f.open[kind] = slices.Delete(q, pick, pick+1)
	default:
		f.push(Interval{Kind: e.F, Start: e.Time, End: e.Time, StartEvent: index, EndEvent: index}, e.Value)
	}
}

func (f *Faults) push(iv Interval, value any) {
	iv.Detail = compactJSON(value)
	iv.Description = iv.Kind
	if iv.Detail != "" {
		iv.Description += " " + iv.Detail
	}
	f.out = append(f.out, iv)
	f.start = append(f.start, value)
}

// Intervals returns the intervals so far, in order of start, with the
// faults still open running to the last event time seen.
func (f *Faults) Intervals() []Interval {
	out := slices.Clone(f.out)
	for _, q := range f.open {
		for _, j := range q {
			out[j].End = f.last
		}
	}
	return out
}

// NemesisIntervals pairs the fault events of a whole history (see Faults).
func NemesisIntervals(events []Event) []Interval {
	var f Faults
	for i, e := range events {
		f.Add(i, e)
	}
	return f.Intervals()
}

// repeats reports whether an end value repeats a start value: equal, or an
// object holding every field of the start's object with the same value.
func repeats(end, start any) bool {
	if end == nil {
		return false
	}
	e, eok := end.(map[string]any)
	s, sok := start.(map[string]any)
	if !eok || !sok {
		return ValueKey(end) == ValueKey(start)
	}
	for _, k := range slices.Sorted(maps.Keys(s)) {
		v, ok := e[k]
		if !ok || ValueKey(v) != ValueKey(s[k]) {
			return false
		}
	}
	return true
}

// compactJSON is a value as compact JSON, "" for null.
func compactJSON(value any) string {
	if value == nil {
		return ""
	}
	b, err := json.Marshal(value)
	if err != nil {
		return ""
	}
	return string(b)
}
