package server

import (
	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/value"
)

// speculate computes the result cmd would have if applied to the state
// applied so far. Only the planted ack-before-commit bug uses it: a correct
// server answers from the real application of a committed entry.
func speculate(store *kv.Store, cmd kv.Command) kv.Result {
	cur, found := store.Get(cmd.Key)
	switch cmd.Op {
	case kv.OpGet:
		return kv.Result{Value: cur, Found: found}
	case kv.OpCas:
		if value.Key(cur) != value.Key(cmd.Expect) {
			return kv.Result{Value: cur, Found: found}
		}
		return kv.Result{Found: found, Swapped: true}
	case kv.OpAppend:
		var list []any
		if found {
			l, ok := cur.([]any)
			if !ok {
				return kv.Result{Value: cur, Found: true, Err: kv.ErrNotAList}
			}
			list = append(list, l...)
		}
		return kv.Result{Value: append(list, cmd.Value), Found: found}
	}
	return kv.Result{Found: found}
}
