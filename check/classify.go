package check

import (
	"math"

	"github.com/faultline/faultline/history"
)

// classify runs the anomaly classifiers of the workload over one key. Every
// classifier is sound: it reports only what no linearizable execution could
// produce, so a correct system never gets an anomaly (Check verifies this
// against Porcupine's verdict). They are not complete: what they miss,
// Porcupine still catches, as a non-linearizable anomaly.
func classify(kh *keyHistory, workload string) []Anomaly {
	if workload == WorkloadRegister {
		return classifyRegister(kh)
	}
	return classifyCollection(kh, workload)
}

// effectiveReturn is when an operation's effect is certain to have happened:
// its completion for an ok operation, never for one of unknown outcome (it
// may take effect at any time after its invocation).
func effectiveReturn(op history.Op) int64 {
	if op.Type == history.Ok {
		return op.Return
	}
	return math.MaxInt64
}

// finalReads tells the final reads of a key: the last reads of its history,
// which a campaign performs after healing. A read is final when it began
// after every operation that may change the key had been invoked and, if it
// completed, had completed; and no other read began after it returned.
type finalReads struct {
	after        int64 // the last invocation or completion of a mutation
	lastReadCall int64 // the last invocation of an ok read
}

func newFinalReads(ops []history.Op) finalReads {
	fr := finalReads{after: -1, lastReadCall: -1}
	for _, op := range ops {
		switch {
		case op.Type == history.Fail:
		case op.F == history.FRead:
			if op.Type == history.Ok {
				fr.lastReadCall = max(fr.lastReadCall, op.Call)
			}
		default:
			fr.after = max(fr.after, op.Call)
			if op.Completed() {
				fr.after = max(fr.after, op.Return)
			}
		}
	}
	return fr
}

// is reports whether op is a final read.
func (fr finalReads) is(op history.Op) bool {
	return op.F == history.FRead && op.Type == history.Ok && op.Call > fr.after && op.Return >= fr.lastReadCall
}
