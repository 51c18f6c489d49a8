package history

import (
	"fmt"
	"math"
)

// Op is one client operation: an invocation paired with its completion.
type Op struct {
	Process int
	F       string
	Key     string
	// Input is the invocation's value (null for reads, [expected, new] for cas).
	Input any
	// Output is the completion's value (the value or list read, for reads);
	// nil when the operation never completed or completed with info.
	Output any
	Call   int64 // invocation time, ns
	// Return is the completion time, ns; math.MaxInt64 when the operation
	// never completed.
	Return int64
	// Type is the completion's type: Ok, Fail or Info (Info too when the
	// operation never completed).
	Type Type
	Node string // the node that answered, when the completion names one
	// Invoke and Complete index the events; Complete is -1 when the
	// operation never completed.
	Invoke   int
	Complete int
}

// Completed reports whether the operation has a completion event.
func (o Op) Completed() bool { return o.Complete >= 0 }

// Pair turns a well-formed history into operations, in invocation order.
// Nemesis events are skipped. It validates like Read and names the event
// index of the first problem.
func Pair(events []Event) ([]Op, error) {
	v := newValidator()
	ops := make([]Op, 0, len(events)/2)
	pending := map[int]int{} // process -> index into ops
	for i, e := range events {
		if err := v.add(eventShape(&e)); err != nil {
			return ops, fmt.Errorf("history event %d: %w", i, err)
		}
		if e.Process.Nemesis {
			continue
		}
		p := e.Process.ID
		if e.Type == Invoke {
			pending[p] = len(ops)
			ops = append(ops, Op{Process: p, F: e.F, Key: e.Key, Input: e.Value, Call: e.Time,
				Return: math.MaxInt64, Type: Info, Invoke: i, Complete: -1})
			continue
		}
		op := &ops[pending[p]]
		delete(pending, p)
		op.Return, op.Type, op.Complete = e.Time, e.Type, i
		if e.Node != "" {
			op.Node = e.Node
		}
		if e.Type == Ok {
			op.Output = e.Value
		}
	}
	return ops, nil
}
