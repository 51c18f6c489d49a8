package history

import (
	"encoding/json"
	"strings"
)

// Interval is a period during which a fault was active, from the nemesis
// events of a history.
type Interval struct {
	// Kind is the fault: the f of its events without "-start"/"-end"
	// (e.g. "partition"), or the whole f of a one-shot event.
	Kind        string
	Start, End  int64 // ns
	StartEvent  int   // index of the start event
	EndEvent    int   // index of the end event; -1 when the fault was never ended
	Description string
}

// Open reports whether the fault was never ended: it runs to the end of the history.
func (iv Interval) Open() bool { return iv.EndEvent < 0 }

// NemesisIntervals pairs fault events: an event whose f ends in "-start"
// opens an interval that a later event with the same prefix ending in
// "-end" closes: the open start with the same value if there is one (so
// "kill-end n2" closes "kill-start n2"), else the oldest open start. A start that is never ended
// runs to the end of the history; a nemesis event that is neither a start
// nor an end is a point interval. Ends without a start are ignored. The
// result is in order of start.
func NemesisIntervals(events []Event) []Interval {
	var out []Interval
	open := map[string][]int{} // kind -> indexes into out, oldest first
	var last int64
	for i, e := range events {
		last = max(last, e.Time)
		if !e.Process.Nemesis {
			continue
		}
		switch {
		case strings.HasSuffix(e.F, "-start"):
			kind := strings.TrimSuffix(e.F, "-start")
			open[kind] = append(open[kind], len(out))
			out = append(out, Interval{Kind: kind, Start: e.Time, StartEvent: i, EndEvent: -1,
				Description: describeFault(kind, e.Value)})
		case strings.HasSuffix(e.F, "-end"):
			kind := strings.TrimSuffix(e.F, "-end")
			q := open[kind]
			if len(q) == 0 {
				continue
			}
			pick := 0
			if e.Value != nil {
				for j, k := range q {
					if ValueKey(events[out[k].StartEvent].Value) == ValueKey(e.Value) {
						pick = j
						break
					}
				}
			}
			out[q[pick]].End, out[q[pick]].EndEvent = e.Time, i
			open[kind] = append(q[:pick:pick], q[pick+1:]...)
		default:
			out = append(out, Interval{Kind: e.F, Start: e.Time, End: e.Time, StartEvent: i, EndEvent: i,
				Description: describeFault(e.F, e.Value)})
		}
	}
	for _, q := range open {
		for _, j := range q {
			out[j].End = last
		}
	}
	return out
}

func describeFault(kind string, value any) string {
	if value == nil {
		return kind
	}
	b, err := json.Marshal(value)
	if err != nil {
		return kind
	}
	return kind + " " + string(b)
}
