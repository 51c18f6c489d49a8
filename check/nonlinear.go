package check

import (
	"fmt"
	"slices"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// explainNonLinearizable words Porcupine's "no" for a key no finer
// classifier explains, from the verbose re-check: the longest linearizable
// prefix it found, the state it leaves, and the operation that cannot be
// placed after it (of those left, the one that returned first: the search
// ran out of options when it reached that return).
func explainNonLinearizable(kh *keyHistory, model porcupine.Model, info *porcupine.LinearizationInfo) Anomaly {
	a := Anomaly{Kind: NonLinearizable, Key: kh.key}
	prefix := longestPartial(info)
	if prefix == nil && len(kh.model) > 0 && info == nil {
		first := kh.ops[kh.model[0].Metadata.(*opMeta).op]
		a.Time, a.Node, a.Events = first.Call, first.Node, opEvents(first)
		a.Explanation = fmt.Sprintf("no order of the %d operations on %s is linearizable (Porcupine's partial linearization is not available)",
			len(kh.model), kh.key)
		return a
	}
	placed := make([]bool, len(kh.model))
	state := model.Init()
	for _, id := range prefix {
		placed[id] = true
		_, state = model.Step(state, kh.model[id].Input, kh.model[id].Output)
	}
	stuck := -1
	for id, op := range kh.model {
		if placed[id] {
			continue
		}
		if stuck < 0 || op.Return < kh.model[stuck].Return ||
			(op.Return == kh.model[stuck].Return && op.Call < kh.model[stuck].Call) {
			stuck = id
		}
	}
	if stuck < 0 { // cannot happen for an illegal key; keep the report honest anyway
		a.Explanation = fmt.Sprintf("Porcupine found no linearization of the %d operations on %s", len(kh.model), kh.key)
		return a
	}
	s := kh.model[stuck]
	sop := kh.ops[s.Metadata.(*opMeta).op]
	a.Time, a.Node = sop.Call, sop.Node
	a.Events = opEvents(sop)
	after := "before any operation could be placed"
	if len(prefix) > 0 {
		last := kh.model[prefix[len(prefix)-1]]
		lop := kh.ops[last.Metadata.(*opMeta).op]
		a.Events = append(a.Events, opEvents(lop)...)
		after = fmt.Sprintf("after the longest linearizable prefix (%d of %d operations, ending with %s at %s%s) the state is %s",
			len(prefix), len(kh.model), model.DescribeOperation(last.Input, last.Output), at(lop.Call), on(lop.Node),
			model.DescribeState(state))
	}
	a.Explanation = fmt.Sprintf("%s is not linearizable: %s, and %s (invoked at %s%s, returned at %s) cannot be placed next",
		kh.key, after, model.DescribeOperation(s.Input, s.Output), at(sop.Call), on(sop.Node), returnedAt(sop))
	return a
}

func returnedAt(op history.Op) string {
	if op.Type != history.Ok {
		return "never (unknown outcome)"
	}
	return at(op.Return)
}

// longestPartial is the longest of Porcupine's partial linearizations of a
// single-partition check (ties broken by content, for stable reports).
func longestPartial(info *porcupine.LinearizationInfo) []int {
	if info == nil {
		return nil
	}
	partitions := info.PartialLinearizations()
	if len(partitions) == 0 {
		return nil
	}
	var best []int
	for _, p := range partitions[0] {
		if len(p) > len(best) || (len(p) == len(best) && slices.Compare(p, best) < 0) {
			best = p
		}
	}
	return best
}
