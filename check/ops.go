package check

import (
	"fmt"
	"math"
	"slices"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// keyHistory is everything the checker needs about one key.
type keyHistory struct {
	key string
	// recs are the key's client operations in invocation order, failed ones
	// included (the classifiers need to know a value was attempted).
	recs []opRecord
	// ops are recs with decoded values, made only for the keys the
	// classifiers or the per-key views look at (see materialize).
	ops []history.Op
	// model is what Porcupine checks: operations of unknown outcome return
	// at infinity, and those that cannot matter are left out (see inModel).
	// It is built just before the key is checked, and dropped after unless
	// the key needs explaining.
	model []porcupine.Operation
	// lists are the elements each ok set or append read returned, by
	// index into recs (nil elsewhere), decoded once for model and classifiers.
	lists [][]string
	// unobserved are the writes of unknown outcome left out of the model
	// because nobody saw their value (indexes into recs); views still show them.
	unobserved []int
	nodes      *nodeNames // the history's node names, shared by all keys
	// values holds the JSON text of every record's value, back to back.
	values []byte
}

// materialize decodes the key's operations for the classifiers.
func (kh *keyHistory) materialize() error {
	if kh.ops != nil {
		return nil
	}
	ops := make([]history.Op, len(kh.recs))
	for i := range kh.recs {
		op, err := kh.recs[i].op(kh.key, kh.nodes.names, kh.raw(&kh.recs[i]))
		if err != nil {
			return err
		}
		ops[i] = op
	}
	kh.ops = ops
	return nil
}

// release drops what only explaining the key needs.
func (kh *keyHistory) release() {
	kh.model, kh.lists, kh.unobserved, kh.ops = nil, nil, nil, nil
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
	w, err := newWorkloadResolver(requested)
	if err != nil {
		return "", err
	}
	for _, op := range ops {
		if err := w.see(op.F, op.Invoke); err != nil {
			return "", err
		}
	}
	return w.result(), nil
}

// splitByKey groups paired operations by key (keys sorted) and builds each
// key's Porcupine history.
func splitByKey(ops []history.Op, workload string) ([]*keyHistory, error) {
	b, err := newBuilder(workload)
	if err != nil {
		return nil, err
	}
	if err := b.ops(ops); err != nil {
		return nil, err
	}
	keys := b.sortedKeys()
	for _, kh := range keys {
		if err := kh.buildModel(workload); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func (kh *keyHistory) buildModel(workload string) error {
	rows := map[int]int{} // process -> dense row for the visualization
	// Inputs, outputs and metadata live in per-key slices and Porcupine gets
	// pointers into them: three allocations per key instead of three per operation.
	if workload != WorkloadRegister {
		kh.lists = make([][]string, len(kh.recs))
		for i := range kh.recs {
			r := &kh.recs[i]
			if r.f == codeRead && r.typ == outcomeOk {
				list, err := kh.readList(r)
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
	observed, err := kh.observedValues(workload)
	if err != nil {
		return err
	}
	keep := make([]bool, len(kh.recs))
	n := 0
	for i := range kh.recs {
		r := &kh.recs[i]
		if keep[i] = kh.inModel(r, observed); keep[i] {
			n++
		} else if r.typ != outcomeFail && r.f != codeRead {
			kh.unobserved = append(kh.unobserved, i)
		}
	}
	// An element added by several operations may already be in the set.
	adds := map[string]int{}
	if workload == WorkloadSet {
		for i := range kh.recs {
			if keep[i] && kh.recs[i].f == codeAdd {
				adds[kh.valueKey(&kh.recs[i])]++
			}
		}
	}
	kh.model = make([]porcupine.Operation, 0, n)
	inputs, outputs, metas := make([]input, n), make([]output, n), make([]opMeta, n)
	for i := range kh.recs {
		if !keep[i] {
			continue
		}
		r := &kh.recs[i]
		j := len(kh.model)
		var list []string
		if kh.lists != nil {
			list = kh.lists[i]
		}
		in, out, err := kh.modelInput(r, workload, list)
		if err != nil {
			return err
		}
		unknown := r.typ != outcomeOk
		in.unknown = unknown
		in.mayRepeat = adds[in.arg] > 1
		ret := r.ret
		if unknown {
			ret = math.MaxInt64
		}
		row, ok := rows[int(r.process)]
		if !ok {
			row = len(rows)
			rows[int(r.process)] = row
		}
		inputs[j], outputs[j] = in, out
		metas[j] = opMeta{op: i, process: int(r.process), node: kh.nodes.names[r.node], invoke: int(r.invoke), complete: int(r.complete)}
		kh.model = append(kh.model, porcupine.Operation{
			ClientId: row, Input: &inputs[j], Output: &outputs[j], Call: r.call, Return: ret, Metadata: &metas[j],
		})
	}
	return nil
}

// valueKey is history.ValueKey of r's value.
func (kh *keyHistory) valueKey(r *opRecord) string { return history.RawValueKey(kh.raw(r)) }

// casPair is the expected and new values of a cas, as ValueKeys.
func (kh *keyHistory) casPair(r *opRecord) (expected, new string, err error) {
	pair, ok := history.RawList(kh.raw(r))
	if !ok || len(pair) != 2 {
		return "", "", eventError(int(r.invoke), "cas value must be [expected, new], got %s", kh.valueKey(r))
	}
	return history.RawValueKey(pair[0]), history.RawValueKey(pair[1]), nil
}

// writtenKey is the ValueKey a write or cas stores, or the element an add
// or append inserts.
func (kh *keyHistory) writtenKey(r *opRecord) string {
	if r.f == codeCas {
		if _, v, err := kh.casPair(r); err == nil {
			return v
		}
	}
	return kh.valueKey(r)
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
func (kh *keyHistory) inModel(r *opRecord, observed map[string]bool) bool {
	switch {
	case r.typ == outcomeFail:
		return false
	case r.typ == outcomeOk:
		return true
	case r.f == codeRead:
		return false
	}
	return observed[kh.writtenKey(r)]
}

// observedValues are the values (register) or elements (set, list) that
// some operation of the key saw: returned by an ok read, or expected by a
// cas that may have happened.
func (kh *keyHistory) observedValues(workload string) (map[string]bool, error) {
	observed := map[string]bool{}
	for i := range kh.recs {
		r := &kh.recs[i]
		switch {
		case r.typ == outcomeFail:
		case r.f == codeCas:
			expected, _, err := kh.casPair(r)
			if err != nil {
				return nil, err
			}
			observed[expected] = true
		case r.f != codeRead || r.typ != outcomeOk:
		case workload == WorkloadRegister:
			observed[kh.valueKey(r)] = true
		default:
			for _, e := range kh.lists[i] {
				observed[e] = true
			}
		}
	}
	return observed, nil
}

// modelInput translates one operation into the model's input and output;
// list is what an ok set or append read returned, already decoded.
func (kh *keyHistory) modelInput(r *opRecord, workload string, list []string) (input, output, error) {
	switch r.f {
	case codeWrite:
		return input{kind: kindWrite, arg: kh.valueKey(r)}, output{}, nil
	case codeCas:
		expected, v, err := kh.casPair(r)
		return input{kind: kindCas, arg: expected, new: v}, output{}, err
	case codeAdd, codeAppend:
		e := kh.valueKey(r)
		kind := kindAdd
		if r.f == codeAppend {
			kind = kindAppend
		}
		return input{kind: kind, arg: e, argHash: elemHash(e)}, output{}, nil
	}
	// An ok read.
	if workload == WorkloadRegister {
		return input{kind: kindRead}, output{value: kh.valueKey(r)}, nil
	}
	out := output{list: list}
	readDigests(&out, workload == WorkloadSet)
	return input{kind: kindRead}, out, nil
}

// readList is the ValueKeys of the elements a set or append read returned,
// in order; null (an absent key) reads as the empty list.
func (kh *keyHistory) readList(r *opRecord) ([]string, error) {
	list := []string{}
	if r.n == 0 {
		return list, nil
	}
	values, ok := history.RawList(kh.raw(r))
	if !ok {
		return nil, eventError(int(r.complete), "a %s read must return a list, got %s", kh.key, kh.valueKey(r))
	}
	for _, v := range values {
		list = append(list, history.RawValueKey(v))
	}
	return list, nil
}
