package check

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/faultline/faultline/history"
)

// A register classifier argument, used by the stale-read and lost-commit
// rules: a read R returning v is definitely stale when some ok write W2 of
// another value completed before R began, and every operation that could
// have written v (ok, info or never completed, invoked before R returned;
// or the initial absent state for null) had certainly taken effect before W2
// began. Then every linearization orders source < W2 < R with no write of v
// in between, so R cannot return v. When R is a final read, W2 is a lost
// commit instead: the key ended without it.

// source is an operation that may have produced a register value.
type source struct {
	call int64
	ret  int64 // effectiveReturn
	op   int   // index into keyHistory.ops; -1 for the initial state
}

// valueSources are the possible writers of one value, sorted by invocation,
// with the running maximum of their effective returns and where it is.
type valueSources struct {
	list      []source
	maxRet    []int64
	maxRetIdx []int
}

// before returns the latest effective return of the sources invoked at or
// before t, and the index of that source; ok is false when none was invoked.
func (vs *valueSources) before(t int64) (int64, int, bool) {
	n := sort.Search(len(vs.list), func(i int) bool { return vs.list[i].call > t })
	if n == 0 {
		return 0, 0, false
	}
	return vs.maxRet[n-1], vs.maxRetIdx[n-1], true
}

// writtenValue is the ValueKey a write or cas stores.
func writtenValue(op history.Op) string {
	if op.F == history.FCas {
		if pair, ok := history.List(op.Input); ok && len(pair) == 2 {
			return history.ValueKey(pair[1])
		}
	}
	return history.ValueKey(op.Input)
}

// ackedWrites are the ok writes and swaps of a key sorted by invocation, with
// the suffix minimum of their returns: the earliest acknowledged write begun
// after a given time.
type ackedWrites struct {
	ops       []int // indexes into keyHistory.ops, by call
	calls     []int64
	minRet    []int64 // minRet[i] = min return over ops[i:]
	minRetIdx []int
}

func newAckedWrites(ops []history.Op) *ackedWrites {
	aw := &ackedWrites{}
	for i, op := range ops {
		if op.Type == history.Ok && (op.F == history.FWrite || op.F == history.FCas) {
			aw.ops = append(aw.ops, i)
		}
	}
	slices.SortStableFunc(aw.ops, func(a, b int) int { return cmpInt64(ops[a].Call, ops[b].Call) })
	n := len(aw.ops)
	aw.calls = make([]int64, n)
	aw.minRet = make([]int64, n+1)
	aw.minRetIdx = make([]int, n+1)
	aw.minRet[n], aw.minRetIdx[n] = math.MaxInt64, -1
	for i := n - 1; i >= 0; i-- {
		op := ops[aw.ops[i]]
		aw.calls[i] = op.Call
		aw.minRet[i], aw.minRetIdx[i] = aw.minRet[i+1], aw.minRetIdx[i+1]
		if op.Return < aw.minRet[i] {
			aw.minRet[i], aw.minRetIdx[i] = op.Return, aw.ops[i]
		}
	}
	return aw
}

// earliestAckAfter is the acked write invoked after t that completed first,
// or -1.
func (aw *ackedWrites) earliestAckAfter(t int64) (int, int64) {
	i := sort.Search(len(aw.calls), func(i int) bool { return aw.calls[i] > t })
	return aw.minRetIdx[i], aw.minRet[i]
}

// latestAckBetween is the acked write invoked after t that completed last
// before end, or -1: for a lost commit, the newest write the key lost.
func (aw *ackedWrites) latestAckBetween(ops []history.Op, t, end int64) int {
	best := -1
	i := sort.Search(len(aw.calls), func(i int) bool { return aw.calls[i] > t })
	for ; i < len(aw.ops); i++ {
		op := ops[aw.ops[i]]
		if op.Return < end && (best < 0 || op.Return > ops[best].Return) {
			best = aw.ops[i]
		}
	}
	return best
}

func classifyRegister(kh *keyHistory) []Anomaly {
	ops := kh.ops
	sources := map[string]*valueSources{nullValue: {list: []source{{call: -1, ret: -1, op: -1}}}}
	for i, op := range ops {
		if op.F == history.FRead || op.Type == history.Fail {
			continue
		}
		v := writtenValue(op)
		vs := sources[v]
		if vs == nil {
			vs = &valueSources{}
			sources[v] = vs
		}
		vs.list = append(vs.list, source{call: op.Call, ret: effectiveReturn(op), op: i})
	}
	for _, vs := range sources {
		slices.SortStableFunc(vs.list, func(a, b source) int { return cmpInt64(a.call, b.call) })
		vs.maxRet = make([]int64, len(vs.list))
		vs.maxRetIdx = make([]int, len(vs.list))
		for i, s := range vs.list {
			vs.maxRet[i], vs.maxRetIdx[i] = s.ret, i
			if i > 0 && vs.maxRet[i-1] >= s.ret {
				vs.maxRet[i], vs.maxRetIdx[i] = vs.maxRet[i-1], vs.maxRetIdx[i-1]
			}
		}
	}
	acked := newAckedWrites(ops)
	final := newFinalReads(ops)
	lost := map[int]bool{} // lost writes already reported

	var out []Anomaly
	for _, r := range ops {
		if r.F != history.FRead || r.Type != history.Ok {
			continue
		}
		v := history.ValueKey(r.Output)
		vs := sources[v]
		var srcRet int64
		var srcIdx int
		found := false
		if vs != nil {
			srcRet, srcIdx, found = vs.before(r.Return)
		}
		if !found {
			out = append(out, registerPhantom(kh.key, r, v, vs != nil))
			continue
		}
		w2, ack := acked.earliestAckAfter(srcRet)
		if w2 < 0 || ack >= r.Call {
			continue
		}
		src := vs.list[srcIdx]
		if final.is(r) {
			w := acked.latestAckBetween(ops, srcRet, r.Call)
			if !lost[w] {
				lost[w] = true
				out = append(out, registerLostCommit(kh.key, ops, ops[w], r, v, src))
			}
			continue
		}
		out = append(out, registerStaleRead(kh.key, ops, r, v, ops[w2], src))
	}
	return out
}

func registerPhantom(key string, r history.Op, v string, writtenLater bool) Anomaly {
	why := "a value no write ever wrote"
	if writtenLater {
		why = "a value no write had begun to write by the time the read returned"
	}
	return Anomaly{
		Kind:        Phantom,
		Key:         key,
		Explanation: fmt.Sprintf("read of %s at %s%s returned %s, %s", key, at(r.Call), on(r.Node), v, why),
		Events:      opEvents(r),
		Time:        r.Call,
		Node:        r.Node,
	}
}

// sourcePhrase says where the value read came from, for explanations.
func sourcePhrase(ops []history.Op, v string, src source) string {
	if src.op < 0 {
		return "the key's initial absent state"
	}
	w := ops[src.op]
	return fmt.Sprintf("%s, acknowledged at %s%s", describeWrite(w), at(w.Return), on(w.Node))
}

func registerStaleRead(key string, ops []history.Op, r history.Op, v string, w2 history.Op, src source) Anomaly {
	staleBy := r.Call - w2.Return
	events := eventsOf(r, w2)
	if src.op >= 0 {
		events = append(events, opEvents(ops[src.op])...)
	}
	return Anomaly{
		Kind: StaleRead,
		Key:  key,
		Explanation: fmt.Sprintf("read of %s at %s%s returned %s; %s was acknowledged at %s%s, %s before the read began (the value read came from %s)",
			key, at(r.Call), on(r.Node), showValue(v), describeWrite(w2), at(w2.Return), on(w2.Node), span(staleBy),
			sourcePhrase(ops, v, src)),
		Events:  events,
		Time:    r.Call,
		Node:    r.Node,
		StaleBy: staleBy,
	}
}

func registerLostCommit(key string, ops []history.Op, w history.Op, final history.Op, v string, src source) Anomaly {
	events := eventsOf(w, final)
	if src.op >= 0 {
		events = append(events, opEvents(ops[src.op])...)
	}
	return Anomaly{
		Kind: LostCommit,
		Key:  key,
		Explanation: fmt.Sprintf("%s to %s, acknowledged at %s%s, is lost: the final read at %s%s returned %s, from %s, before the write began",
			describeWrite(w), key, at(w.Return), on(w.Node), at(final.Call), on(final.Node), showValue(v), sourcePhrase(ops, v, src)),
		Events: events,
		Time:   w.Call,
		Node:   w.Node,
	}
}
