package report

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"sort"
)

// maxTimelineOps caps the operations embedded in a report's timeline. A
// longer history is sampled evenly, keeping every operation named by an
// anomaly, so a million-operation run still gives a page of a few MB.
const maxTimelineOps = 20000

// Outcome codes in the embedded timeline data (see report.js).
var outcomeCode = map[string]int{OutcomeOk: 0, OutcomeFail: 1, OutcomeInfo: 2, OutcomePending: 3}

// timelineData is embedded in report.html as JSON and drawn by report.js.
// Operations are arrays, not objects, to keep the page small:
// [id, row, f, key, start ms, end ms, outcome code, value, node, flagged].
type timelineData struct {
	Start  float64           `json:"start"` // where the default view begins
	End    float64           `json:"end"`
	Procs  []int             `json:"procs"`
	Fs     []string          `json:"fs"`
	Keys   []string          `json:"keys"`
	Ops    [][]any           `json:"ops"`
	Faults [][]any           `json:"faults"` // [kind, start ms, end ms, detail, healed, lane]
	Lanes  int               `json:"lanes"`  // fault lanes: overlapping faults get their own
	Colors map[string]string `json:"colors"`
	Total  int               `json:"total"`
	Shown  int               `json:"shown"`
}

func ms(ns int64) float64 { return math.Round(float64(ns)/1e3) / 1e3 }

// timelineJSON encodes the operations of the timeline, keep (sampleOps).
func timelineJSON(h *History, keep []int, start, end int64, flagged map[int]bool, colors map[string]string) ([]byte, int, error) {
	td := timelineData{Start: ms(start), End: ms(end), Colors: colors, Total: h.Len(), Shown: len(keep)}
	rowOf := map[int]int{}
	fIdx := map[string]int{}
	keyIdx := map[string]int{}
	var procs []int
	for _, i := range keep {
		p := h.Op(i).Process // fetched with the sample's details
		if _, ok := rowOf[p]; !ok {
			rowOf[p] = 0
			procs = append(procs, p)
		}
	}
	sort.Ints(procs)
	for r, p := range procs {
		rowOf[p] = r
	}
	td.Procs = procs
	index := func(m map[string]int, list *[]string, s string) int {
		if i, ok := m[s]; ok {
			return i
		}
		m[s] = len(*list)
		*list = append(*list, s)
		return m[s]
	}
	td.Ops = make([][]any, 0, len(keep))
	for _, i := range keep {
		op := h.Op(i)
		flag := 0
		if flagged[i] {
			flag = 1
		}
		td.Ops = append(td.Ops, []any{
			op.ID, rowOf[op.Process], index(fIdx, &td.Fs, op.F), index(keyIdx, &td.Keys, op.Key),
			ms(op.Start), ms(op.End), outcomeCode[op.Outcome], op.Value, op.Node, flag,
		})
	}
	td.Faults = make([][]any, 0, len(h.Faults))
	lanes := faultLanes(h.Faults)
	for i, f := range h.Faults {
		td.Faults = append(td.Faults, []any{f.Kind, ms(f.Start), ms(f.End), shorten(f.Detail, 200), f.Healed, lanes[i]})
		td.Lanes = max(td.Lanes, lanes[i]+1)
	}
	// json.Marshal escapes <, > and &, so the data is safe inside <script>.
	b, err := json.Marshal(td)
	return b, len(keep), err
}

// sampleOps returns the indexes of the operations to draw, in order: all of
// them when they fit, else every flagged one plus an even sample of the
// others, giving failed and unknown operations up to half the budget since
// they are the interesting ones.
func sampleOps(n int, succeeded func(int) bool, flagged map[int]bool, budget int) []int {
	if n <= budget {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	nOk, nOther := 0, 0
	for i := range n {
		if flagged[i] {
			continue
		}
		if succeeded(i) {
			nOk++
		} else {
			nOther++
		}
	}
	room := max(budget-len(flagged), 0)
	otherBudget := min(nOther, room/2)
	okBudget := room - otherBudget
	var out []int
	seenOk, seenOther := 0, 0
	for i := range n {
		switch {
		case flagged[i]:
			out = append(out, i)
		case succeeded(i):
			if evenPick(seenOk, nOk, okBudget) {
				out = append(out, i)
			}
			seenOk++
		default:
			if evenPick(seenOther, nOther, otherBudget) {
				out = append(out, i)
			}
			seenOther++
		}
	}
	return out
}

// evenPick says whether the k-th of n items is among want picked evenly:
// exactly min(want, n) items are picked, spread over the n.
func evenPick(k, n, want int) bool {
	if want >= n {
		return true
	}
	return k*want/n != (k+1)*want/n
}

// faultLanes gives each fault the lowest lane free at its start, so that
// faults active at once (--concurrent-faults, composites) are drawn side by
// side rather than on top of each other.
func faultLanes(faults []Fault) []int {
	lanes := make([]int, len(faults))
	order := make([]int, len(faults))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(faults[a].Start, faults[b].Start) })
	var busyUntil []int64 // per lane, the end of its last fault
	for _, i := range order {
		f := faults[i]
		lane := slices.IndexFunc(busyUntil, func(end int64) bool { return end <= f.Start })
		if lane < 0 {
			lane = len(busyUntil)
			busyUntil = append(busyUntil, 0)
		}
		busyUntil[lane] = max(f.End, f.Start+1)
		lanes[i] = lane
	}
	return lanes
}
