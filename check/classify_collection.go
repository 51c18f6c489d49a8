package check

import (
	"fmt"
	"slices"
	"sort"

	"github.com/faultline/faultline/history"
)

// The set and append classifiers rest on one fact: neither structure ever
// loses an element, so once an add or append is acknowledged its element is
// in every read that begins afterwards. A read that begins later and lacks
// it is stale; if every final read (begun after all mutations of the key)
// lacks it, the commit is lost. An element no add or append had begun to
// write by the time the read returned is a phantom, and an element read more
// often than it was ever added is a duplicate.

func classifyCollection(kh *keyHistory, workload string) []Anomaly {
	ops := kh.ops
	verb := "add"
	if workload == WorkloadAppend {
		verb = "append"
	}
	// attempts[e] are the invocation times of the adds of e that may have
	// happened (ok, info or never completed), sorted.
	attempts := map[string][]int64{}
	var acked []int // ok adds, by acknowledgement
	var reads []int // ok reads, by invocation
	for i, op := range ops {
		switch {
		case op.Type == history.Fail:
		case op.F != history.FRead:
			e := history.ValueKey(op.Input)
			attempts[e] = append(attempts[e], op.Call)
			if op.Type == history.Ok {
				acked = append(acked, i)
			}
		case op.Type == history.Ok:
			reads = append(reads, i)
		}
	}
	for _, calls := range attempts {
		slices.Sort(calls)
	}
	slices.SortStableFunc(acked, func(a, b int) int { return cmpInt64(ops[a].Return, ops[b].Return) })
	slices.SortStableFunc(reads, func(a, b int) int { return cmpInt64(ops[a].Call, ops[b].Call) })

	// Lost commits first: stale reads leave out what is already reported lost.
	final := newFinalReads(ops)
	var finals []finalRead
	for _, r := range reads {
		if final.is(ops[r]) {
			members := map[string]bool{}
			for _, e := range kh.lists[r] {
				members[e] = true
			}
			finals = append(finals, finalRead{op: ops[r], members: members})
		}
	}
	var out []Anomaly
	lost := map[string]bool{}
	for _, a := range acked {
		if anomaly, ok := collectionLostCommit(kh.key, verb, ops[a], finals); ok {
			lost[history.ValueKey(ops[a].Input)] = true
			out = append(out, anomaly)
		}
	}
	counts := map[string]int{} // the current read's elements, reused
	var order []string
	for _, r := range reads {
		clear(counts)
		order = order[:0]
		for _, e := range kh.lists[r] {
			if counts[e] == 0 {
				order = append(order, e)
			}
			counts[e]++
		}
		out = append(out, collectionPhantomsAndDuplicates(kh.key, workload, verb, ops[r], counts, order, attempts)...)
		if anomaly, ok := collectionStaleRead(kh.key, verb, ops[r], counts, ops, acked, lost); ok {
			out = append(out, anomaly)
		}
	}
	return out
}

// finalRead is a final read with its members.
type finalRead struct {
	op      history.Op
	members map[string]bool
}

// attemptsBy counts the adds of an element invoked at or before t.
func attemptsBy(calls []int64, t int64) int {
	return sort.Search(len(calls), func(i int) bool { return calls[i] > t })
}

func collectionPhantomsAndDuplicates(key, workload, verb string, r history.Op, counts map[string]int, order []string,
	attempts map[string][]int64) []Anomaly {
	var phantoms, dups []string
	dupDetail := ""
	for _, e := range order {
		added := attemptsBy(attempts[e], r.Return)
		n := counts[e]
		switch {
		case added == 0:
			phantoms = append(phantoms, e)
		case workload == WorkloadSet && n > 1, workload == WorkloadAppend && n > added:
			if dups == nil {
				dupDetail = fmt.Sprintf("%s %d times, but it was %sed %s", e, n, verb, times(added))
				if workload == WorkloadSet {
					dupDetail = fmt.Sprintf("%s %d times, but a set holds each element once", e, n)
				}
			}
			dups = append(dups, e)
		}
	}
	var out []Anomaly
	if len(phantoms) > 0 {
		out = append(out, Anomaly{
			Kind: Phantom,
			Key:  key,
			Explanation: fmt.Sprintf("read of %s at %s%s returned %s, which no %s had begun to write by the time the read returned",
				key, at(r.Call), on(r.Node), joinShown(phantoms, 5), verb),
			Events: opEvents(r),
			Time:   r.Call,
			Node:   r.Node,
		})
	}
	if len(dups) > 0 {
		out = append(out, Anomaly{
			Kind: Duplicate,
			Key:  key,
			Explanation: fmt.Sprintf("read of %s at %s%s returned %s%s",
				key, at(r.Call), on(r.Node), dupDetail, others(len(dups)-1, "duplicated element")),
			Events: opEvents(r),
			Time:   r.Call,
			Node:   r.Node,
		})
	}
	return out
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// collectionLostCommit reports an acknowledged element that every final read
// begun after its acknowledgement lacks.
func collectionLostCommit(key, verb string, a history.Op, finals []finalRead) (Anomaly, bool) {
	e := history.ValueKey(a.Input)
	var firstFinal *history.Op
	for i := range finals {
		r := &finals[i].op
		if r.Call <= a.Return {
			continue
		}
		if finals[i].members[e] {
			return Anomaly{}, false
		}
		if firstFinal == nil {
			firstFinal = r
		}
	}
	if firstFinal == nil {
		return Anomaly{}, false
	}
	return Anomaly{
		Kind: LostCommit,
		Key:  key,
		Explanation: fmt.Sprintf("%s of %s to %s, acknowledged at %s%s, is lost: the final read at %s%s, %s after the acknowledgement, does not contain it",
			verb, e, key, at(a.Return), on(a.Node), at(firstFinal.Call), on(firstFinal.Node), span(firstFinal.Call-a.Return)),
		Events: eventsOf(a, *firstFinal),
		Time:   a.Call,
		Node:   a.Node,
	}, true
}

// collectionStaleRead reports a read lacking elements acknowledged before it
// began (elements already reported lost aside).
func collectionStaleRead(key, verb string, r history.Op, counts map[string]int, ops []history.Op, acked []int,
	lost map[string]bool) (Anomaly, bool) {
	var missing []int
	for _, a := range acked {
		if ops[a].Return >= r.Call {
			break // acked is sorted by acknowledgement
		}
		e := history.ValueKey(ops[a].Input)
		if counts[e] == 0 && !lost[e] {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return Anomaly{}, false
	}
	// The example is the element acknowledged first: the stalest miss.
	w := ops[missing[0]]
	staleBy := r.Call - w.Return
	return Anomaly{
		Kind: StaleRead,
		Key:  key,
		Explanation: fmt.Sprintf("read of %s at %s%s missed %s of %s, acknowledged at %s%s, %s before the read began%s",
			key, at(r.Call), on(r.Node), verb, history.ValueKey(w.Input), at(w.Return), on(w.Node), span(staleBy),
			others(len(missing)-1, "acknowledged element")),
		Events:  eventsOf(r, w),
		Time:    r.Call,
		Node:    r.Node,
		StaleBy: staleBy,
	}, true
}
