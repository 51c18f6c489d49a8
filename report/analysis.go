package report

import (
	"math"
	"sort"
	"strings"
)

// noFault labels a phase with no fault active.
const noFault = "no fault"

// Phase is a stretch of the run during which the same set of faults was
// active. Operations belong to the phase in which they were invoked.
type Phase struct {
	Start, End       int64
	Label            string // "no fault", or the active kinds joined by "+"
	Ops              int
	Ok, Fail, Info   int
	Availability     float64 // Ok / Ops; NaN when no operation was invoked
	AvailabilityText string
}

// Recovery is how long the system took to serve again after a fault healed:
// from the heal to the completion of the first operation invoked after it
// that succeeded.
type Recovery struct {
	Kind        string
	Heal        int64
	Recovered   bool
	RecoveredAt int64
	After       int64 // RecoveredAt - Heal
}

// Bucket counts operations in one window of time.
type Bucket struct {
	Start          int64
	Ok, Fail, Info int // completions in the window, by outcome
	Invoked        int // operations invoked in the window
	InvokedOk      int // of which succeeded
}

// Analysis is the derived numbers behind the plots and tables.
type Analysis struct {
	// Start and End bound the plotted time axis, ns. Start skips the
	// cluster's set-up before the first operation or fault.
	Start          int64
	End            int64
	Ok, Fail, Info int // pending counts as info
	Processes      int
	Keys           int
	Phases         []Phase
	ByLabel        []Phase // phases merged by label, in order of first appearance
	Recoveries     []Recovery
	BucketWidth    int64
	Buckets        []Bucket
}

// targetBuckets is roughly how many windows the time series are cut into.
const targetBuckets = 120

func analyse(h *History) Analysis {
	a := Analysis{End: max(h.EndTime, 1), Start: plotStart(h)}
	keys := map[string]bool{}
	for i := range h.Len() {
		op := h.Op(i)
		keys[op.Key] = true
		switch op.Outcome {
		case OutcomeOk:
			a.Ok++
		case OutcomeFail:
			a.Fail++
		default:
			a.Info++
		}
	}
	a.Processes, a.Keys = h.Processes, len(keys)
	a.Phases = phases(h, a.End)
	a.ByLabel = mergeByLabel(a.Phases)
	a.Recoveries = recoveries(h)
	a.BucketWidth = niceStep(float64(a.End) / targetBuckets)
	a.Buckets = buckets(h, a.End, a.BucketWidth)
	return a
}

// plotStart is shortly before the first operation or fault, so that plots
// and the timeline do not spend their width on the cluster's set-up.
func plotStart(h *History) int64 {
	first := h.EndTime
	if h.Len() > 0 {
		first = min(first, h.Op(0).Start)
	}
	if len(h.Faults) > 0 {
		first = min(first, h.Faults[0].Start)
	}
	return max(0, first-(h.EndTime-first)/50)
}

// phases cuts [0, end] at every fault boundary and counts operations by the
// phase in which they were invoked.
func phases(h *History, end int64) []Phase {
	cuts := []int64{0, end}
	for _, f := range h.Faults {
		if f.End > f.Start {
			cuts = append(cuts, f.Start, f.End)
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i] < cuts[j] })
	var out []Phase
	for i := 0; i+1 < len(cuts); i++ {
		s, e := cuts[i], cuts[i+1]
		if e <= s || s >= end {
			continue
		}
		label := activeLabel(h.Faults, s, e)
		if n := len(out); n > 0 && out[n-1].Label == label {
			out[n-1].End = e
			continue
		}
		out = append(out, Phase{Start: s, End: e, Label: label})
	}
	if len(out) == 0 {
		out = []Phase{{Start: 0, End: end, Label: noFault}}
	}
	for i := range h.Len() {
		op := h.Op(i)
		j := sort.Search(len(out), func(k int) bool { return out[k].End > op.Start })
		if j == len(out) {
			j = len(out) - 1
		}
		countOutcome(&out[j], op.Outcome)
	}
	for i := range out {
		out[i].finish()
	}
	return out
}

func countOutcome(p *Phase, outcome string) {
	p.Ops++
	switch outcome {
	case OutcomeOk:
		p.Ok++
	case OutcomeFail:
		p.Fail++
	default:
		p.Info++
	}
}

func (p *Phase) finish() {
	p.Availability = math.NaN()
	p.AvailabilityText = "no operations"
	if p.Ops > 0 {
		p.Availability = float64(p.Ok) / float64(p.Ops)
		p.AvailabilityText = percent(p.Availability)
	}
}

// activeLabel names the faults active over the whole of [s, e).
func activeLabel(faults []Fault, s, e int64) string {
	seen := map[string]bool{}
	var kinds []string
	for _, f := range faults {
		if f.End > f.Start && f.Start <= s && f.End >= e && !seen[f.Kind] {
			seen[f.Kind] = true
			kinds = append(kinds, f.Kind)
		}
	}
	if len(kinds) == 0 {
		return noFault
	}
	sort.Strings(kinds)
	return strings.Join(kinds, "+")
}

func mergeByLabel(ph []Phase) []Phase {
	var out []Phase
	idx := map[string]int{}
	for _, p := range ph {
		i, ok := idx[p.Label]
		if !ok {
			idx[p.Label] = len(out)
			out = append(out, Phase{Label: p.Label})
			i = len(out) - 1
		}
		m := &out[i]
		m.End += p.End - p.Start // total time under this label
		m.Ops += p.Ops
		m.Ok += p.Ok
		m.Fail += p.Fail
		m.Info += p.Info
	}
	for i := range out {
		out[i].finish()
	}
	return out
}

// recoveries measures, after each healed fault, the time until an operation
// invoked after the heal succeeded.
func recoveries(h *History) []Recovery {
	// Ops are in invocation order: the operations invoked after a heal are
	// those from the first one invoked at or after it. One backward pass
	// keeps the earliest ok completion among Ops[i:] and notes it at each
	// such first operation.
	n := h.Len()
	firstAfter := map[int]int64{} // index of the first op invoked after a heal -> earliest ok end from it
	var healed []Fault
	var from []int
	for _, f := range h.Faults {
		if !f.Healed || f.End <= f.Start {
			continue
		}
		i := sort.Search(n, func(k int) bool { return h.ops.start(k) >= f.End })
		healed, from = append(healed, f), append(from, i)
		firstAfter[i] = math.MaxInt64
	}
	earliest := int64(math.MaxInt64)
	for i := n - 1; i >= 0 && len(firstAfter) > 0; i-- {
		if end := h.ops.end(i, h.EndTime); h.succeeded(i) && end < earliest {
			earliest = end
		}
		if _, ok := firstAfter[i]; ok {
			firstAfter[i] = earliest
		}
	}
	var out []Recovery
	for j, f := range healed {
		r := Recovery{Kind: f.Kind, Heal: f.End}
		if t := firstAfter[from[j]]; t != math.MaxInt64 {
			r.Recovered, r.RecoveredAt, r.After = true, t, t-f.End
		}
		out = append(out, r)
	}
	return out
}

func buckets(h *History, end, width int64) []Bucket {
	n := int(end/width) + 1
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = int64(i) * width
	}
	at := func(t int64) *Bucket {
		i := int(t / width)
		return &out[min(max(i, 0), n-1)]
	}
	for i := range h.Len() {
		op := h.Op(i)
		b := at(op.Start)
		b.Invoked++
		if op.Succeeded() {
			b.InvokedOk++
		}
		if op.Outcome == OutcomePending {
			continue
		}
		c := at(op.End)
		switch op.Outcome {
		case OutcomeOk:
			c.Ok++
		case OutcomeFail:
			c.Fail++
		default:
			c.Info++
		}
	}
	return out
}

// niceStep rounds a positive duration in ns up to 1, 2 or 5 times a power of
// ten, so buckets fall on readable boundaries.
func niceStep(x float64) int64 {
	if x < 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return int64(m * p)
		}
	}
	return int64(10 * p)
}
