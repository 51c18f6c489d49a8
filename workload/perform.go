package workload

import (
	"context"
	"fmt"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/system"
)

// errPrecondition is the error of a cas whose expected value did not match:
// a definite failure, the write did not happen.
const errPrecondition = "precondition failed"

// outcome is how one operation ended, in the terms of the history.
type outcome struct {
	Type  history.Type // Ok, Fail or Info
	Value any          // the completion's value
	Node  string       // the node that answered, if known
	Error string       // why a fail or info
}

// perform runs op through c and classifies the result: no error is ok; a
// definite error (system.IsDefinite: the system refused before applying) is
// fail; anything else (timeout, broken connection) is info, because the
// operation may or may not have taken effect.
func perform(ctx context.Context, c system.Client, workload string, op Op, stale bool) outcome {
	var (
		value = op.Value
		node  string
		err   error
	)
	switch op.F {
	case history.FRead:
		var v any
		var found bool
		v, found, node, err = c.Read(ctx, op.Key, stale)
		switch workload {
		case Register:
			if found {
				value = normalizeValue(v)
			} else {
				value = nil
			}
		case Set:
			value = asSet(asList(v, found))
		default:
			value = asList(v, found)
		}
	case history.FWrite:
		node, err = c.Write(ctx, op.Key, op.Value)
	case history.FCas:
		pair, ok := op.Value.([]any)
		if !ok || len(pair) != 2 {
			panic(fmt.Sprintf("workload: cas value %v is not [expect, new]", op.Value))
		}
		var swapped bool
		swapped, node, err = c.Cas(ctx, op.Key, pair[0], pair[1])
		if err == nil && !swapped {
			return outcome{Type: history.Fail, Value: op.Value, Node: node, Error: errPrecondition}
		}
	case history.FAdd, history.FAppend:
		node, err = c.Append(ctx, op.Key, op.Value)
	default:
		panic(fmt.Sprintf("workload: generator produced unknown f %q", op.F))
	}
	switch {
	case err == nil:
		return outcome{Type: history.Ok, Value: value, Node: node}
	case system.IsDefinite(err):
		return outcome{Type: history.Fail, Value: op.Value, Node: node, Error: err.Error()}
	default:
		return outcome{Type: history.Info, Value: op.Value, Node: node, Error: err.Error()}
	}
}
