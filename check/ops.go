package check

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// keyHistory is everything the checker needs about one key.
type keyHistory struct {
	key string
	// ops are the key's client operations in invocation order, failed ones
	// included (the classifiers need to know a value was attempted).
	ops []history.Op
	// model is what Porcupine checks: operations of unknown outcome return
	// at infinity, and those that cannot matter are left out (see inModel).
	model []porcupine.Operation
	// lists are the elements each ok set or append read returned, by
	// index into ops (nil elsewhere), decoded once for model and classifiers.
	lists [][]string
	// unobserved are the writes of unknown outcome left out of the model
	// because nobody saw their value (indexes into ops); views still show them.
	unobserved []int
}

// opMeta travels with each Porcupine operation so views and explanations can
// point back into the history.
type opMeta struct {
	op       int // index into keyHistory.ops
	process  int
	node     string
	invoke   int
	complete int
}

func (m opMeta) String() string {
	s := fmt.Sprintf("process %d, event %d", m.process, m.invoke)
	if m.complete >= 0 {
		s += fmt.Sprintf("–%d", m.complete)
	}
	if m.node != "" {
		s += ", node " + m.node
	}
	return s
}

// eventError names the event (and its line in history.jsonl) an error is about.
func eventError(index int, format string, args ...any) error {
	return fmt.Errorf("check: history event %d (line %d): %s", index, index+1, fmt.Sprintf(format, args...))
}

// workloadOf returns the workload of an operation's f, "" for a read (any workload).
func workloadOf(f string) string {
	switch f {
	case history.FWrite, history.FCas:
		return WorkloadRegister
	case history.FAdd:
		return WorkloadSet
	case history.FAppend:
		return WorkloadAppend
	}
	return ""
}

// resolveWorkload checks the requested workload against the operations, or
// infers it from their f names when none is requested.
func resolveWorkload(requested string, ops []history.Op) (string, error) {
	switch requested {
	case "", WorkloadRegister, WorkloadSet, WorkloadAppend:
	default:
		return "", fmt.Errorf("check: unknown workload %q (want register, set or append)", requested)
	}
	workload, from := requested, -1
	for _, op := range ops {
		w := workloadOf(op.F)
		if w == "" || w == workload {
			continue
		}
		if workload == "" {
			workload, from = w, op.Invoke
			continue
		}
		if from >= 0 {
			return "", eventError(op.Invoke, "f %q belongs to the %s workload, but event %d made this a %s history", op.F, w, from, workload)
		}
		return "", eventError(op.Invoke, "f %q does not belong to the %s workload", op.F, workload)
	}
	if workload == "" {
		workload = WorkloadRegister // reads only: every model agrees
	}
	return workload, nil
}

// splitByKey groups the operations by key (keys sorted) and builds each
// key's Porcupine history.
func splitByKey(ops []history.Op, workload string) ([]*keyHistory, error) {
	counts := map[string]int{}
	for _, op := range ops {
		counts[op.Key]++
	}
	byKey := make(map[string]*keyHistory, len(counts))
	for key, n := range counts {
		byKey[key] = &keyHistory{key: key, ops: make([]history.Op, 0, n)}
	}
	for _, op := range ops {
		kh := byKey[op.Key]
		kh.ops = append(kh.ops, op)
	}
	keys := make([]*keyHistory, 0, len(byKey))
	for _, kh := range byKey {
		if err := kh.buildModel(workload); err != nil {
			return nil, err
		}
		keys = append(keys, kh)
	}
	slices.SortFunc(keys, func(a, b *keyHistory) int { return strings.Compare(a.key, b.key) })
	return keys, nil
}

func (kh *keyHistory) buildModel(workload string) error {
	rows := map[int]int{} // process -> dense row for the visualization
	// Inputs, outputs and metadata live in per-key slices and Porcupine gets
	// pointers into them: three allocations per key instead of three per operation.
	if workload != WorkloadRegister {
		kh.lists = make([][]string, len(kh.ops))
		for i, op := range kh.ops {
			if op.F == history.FRead && op.Type == history.Ok {
				list, err := readList(op)
				if err != nil {
					return err
				}
				if workload == WorkloadSet {
					slices.Sort(list) // a set read's order means nothing
				}
				kh.lists[i] = list
			}
		}
	}
	observed := kh.observedValues(workload)
	keep := make([]bool, len(kh.ops))
	n := 0
	for i, op := range kh.ops {
		if keep[i] = inModel(op, observed, workload); keep[i] {
			n++
		} else if op.Type != history.Fail && op.F != history.FRead {
			kh.unobserved = append(kh.unobserved, i)
		}
	}
	// An element added by several operations may already be in the set.
	adds := map[string]int{}
	if workload == WorkloadSet {
		for i, op := range kh.ops {
			if keep[i] && op.F == history.FAdd {
				adds[history.ValueKey(op.Input)]++
			}
		}
	}
	kh.model = make([]porcupine.Operation, 0, n)
	inputs, outputs, metas := make([]input, n), make([]output, n), make([]opMeta, n)
	for i, op := range kh.ops {
		if !keep[i] {
			continue
		}
		j := len(kh.model)
		var list []string
		if kh.lists != nil {
			list = kh.lists[i]
		}
		in, out, err := modelInput(op, workload, list)
		if err != nil {
			return err
		}
		unknown := op.Type != history.Ok
		in.unknown = unknown
		in.mayRepeat = adds[in.arg] > 1
		ret := op.Return
		if unknown {
			ret = math.MaxInt64
		}
		row, ok := rows[op.Process]
		if !ok {
			row = len(rows)
			rows[op.Process] = row
		}
		inputs[j], outputs[j] = in, out
		metas[j] = opMeta{op: i, process: op.Process, node: op.Node, invoke: op.Invoke, complete: op.Complete}
		kh.model = append(kh.model, porcupine.Operation{
			ClientId: row, Input: &inputs[j], Output: &outputs[j], Call: op.Call, Return: ret, Metadata: &metas[j],
		})
	}
	return nil
}

// inModel reports whether Porcupine needs to see an operation. A failed one
// definitely did not happen, and a read of unknown outcome constrains
// nothing. A write of unknown outcome whose value nobody observed (no ok
// read returned it, no cas expected it; for sets and lists, no read
// contained the element) is left out too: the history is linearizable
// with it iff it is without it, since it can always take effect last, and
// in any linearization that places it earlier no operation depends on it
// (a cas of unknown outcome that then did nothing can move to the end too).
// Such operations are most of what a partition leaves behind, and each one
// Porcupine keeps multiplies the orders it may have to try.
func inModel(op history.Op, observed map[string]bool, workload string) bool {
	switch {
	case op.Type == history.Fail:
		return false
	case op.Type == history.Ok:
		return true
	case op.F == history.FRead:
		return false
	}
	return observed[writtenValue(op)]
}

// observedValues are the values (register) or elements (set, list) that
// some operation of the key saw: returned by an ok read, or expected by a
// cas that may have happened.
func (kh *keyHistory) observedValues(workload string) map[string]bool {
	observed := map[string]bool{}
	for i, op := range kh.ops {
		switch {
		case op.Type == history.Fail:
		case op.F == history.FCas:
			if pair, ok := history.List(op.Input); ok && len(pair) == 2 {
				observed[history.ValueKey(pair[0])] = true
			}
		case op.F != history.FRead || op.Type != history.Ok:
		case workload == WorkloadRegister:
			observed[history.ValueKey(op.Output)] = true
		default:
			for _, e := range kh.lists[i] {
				observed[e] = true
			}
		}
	}
	return observed
}

// modelInput translates one operation into the model's input and output;
// list is what an ok set or append read returned, already decoded.
func modelInput(op history.Op, workload string, list []string) (input, output, error) {
	switch op.F {
	case history.FWrite:
		return input{kind: kindWrite, arg: history.ValueKey(op.Input)}, output{}, nil
	case history.FCas:
		pair, ok := history.List(op.Input)
		if !ok || len(pair) != 2 {
			return input{}, output{}, eventError(op.Invoke, "cas value must be [expected, new], got %s", history.ValueKey(op.Input))
		}
		return input{kind: kindCas, arg: history.ValueKey(pair[0]), new: history.ValueKey(pair[1])}, output{}, nil
	case history.FAdd, history.FAppend:
		e := history.ValueKey(op.Input)
		kind := kindAdd
		if op.F == history.FAppend {
			kind = kindAppend
		}
		return input{kind: kind, arg: e, argHash: elemHash(e)}, output{}, nil
	}
	// An ok read.
	if workload == WorkloadRegister {
		return input{kind: kindRead}, output{value: history.ValueKey(op.Output)}, nil
	}
	out := output{list: list}
	readDigests(&out, workload == WorkloadSet)
	return input{kind: kindRead}, out, nil
}

// readList is the ValueKeys of the elements a set or append read returned,
// in order; null (an absent key) reads as the empty list.
func readList(op history.Op) ([]string, error) {
	list := []string{}
	if op.Output == nil {
		return list, nil
	}
	values, ok := history.List(op.Output)
	if !ok {
		return nil, eventError(op.Complete, "a %s read must return a list, got %s", op.Key, history.ValueKey(op.Output))
	}
	for _, v := range values {
		list = append(list, history.ValueKey(v))
	}
	return list, nil
}
