package check

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/faultline/faultline/history"
)

// opRecord is one client operation as the checker keeps it between reading
// and checking: 40 bytes, with no pointer for the garbage collector to
// follow, plus the JSON text of its value in its key's arena, against some
// 200 bytes for a history.Op with decoded values. That is what lets ten
// million operations fit in a few gigabytes. A key's records are written
// once, in invocation order.
type opRecord struct {
	call, ret int64 // ret is math.MaxInt64 when the operation never completed
	// off and n place the value's JSON text in keyHistory.values (n is 0
	// for none): what an ok read returned, else the invocation's value
	// (written value, [expected, new], element).
	off, n           uint32
	invoke, complete int32 // event indexes; complete is -1 when never completed
	process          int32
	node             uint16 // index into the builder's node names; 0 for none
	f                fCode
	typ              outcome
}

// fCode is an operation function; outcome a completion type.
type (
	fCode   uint8
	outcome uint8
)

const (
	codeRead fCode = iota
	codeWrite
	codeCas
	codeAdd
	codeAppend
)

var fNames = [...]string{codeRead: history.FRead, codeWrite: history.FWrite, codeCas: history.FCas, codeAdd: history.FAdd, codeAppend: history.FAppend}

func fCodeOf(f string) (fCode, bool) {
	for c, name := range fNames {
		if name == f {
			return fCode(c), true
		}
	}
	return 0, false
}

const (
	outcomeInfo outcome = iota // info, or never completed
	outcomeOk
	outcomeFail
)

var outcomeTypes = [...]history.Type{outcomeInfo: history.Info, outcomeOk: history.Ok, outcomeFail: history.Fail}

func outcomeOf(t history.Type) outcome {
	switch t {
	case history.Ok:
		return outcomeOk
	case history.Fail:
		return outcomeFail
	}
	return outcomeInfo
}

// completed reports whether the operation has a completion event.
func (r *opRecord) completed() bool { return r.complete >= 0 }

// name is the operation's f.
func (r *opRecord) name() string { return fNames[r.f] }

// op is the record as a history.Op with decoded values, for the
// classifiers and explanations (which run on few keys).
func (r *opRecord) op(key string, nodes []string, raw []byte) (history.Op, error) {
	v, err := history.DecodeValue(raw)
	if err != nil {
		return history.Op{}, eventError(int(r.invoke), "value: %v", err)
	}
	op := history.Op{Process: int(r.process), F: r.name(), Key: key, Input: v, Call: r.call, Return: r.ret,
		Type: outcomeTypes[r.typ], Node: nodes[r.node], Invoke: int(r.invoke), Complete: int(r.complete)}
	if r.f == codeRead {
		op.Input, op.Output = nil, v
	}
	return op, nil
}

// builder gathers a history's operations by key as the events stream by.
// Well-formedness is the reader's (or history.Pair's) job; the builder
// trusts it.
type builder struct {
	workload workloadResolver
	keys     []*keyHistory
	index    map[string]int    // key -> index into keys
	pending  map[int]pendingOp // busy process -> its open operation
	nodes    *nodeNames
	faults   history.Faults // the nemesis intervals
}

type pendingOp struct{ key, rec int }

// nodeNames numbers the nodes that answered; 0 is "none".
type nodeNames struct {
	names []string
	index map[string]uint16
}

func (n *nodeNames) number(name string, event int) (uint16, error) {
	if name == "" {
		return 0, nil
	}
	if i, ok := n.index[name]; ok {
		return i, nil
	}
	if len(n.names) > math.MaxUint16 {
		return 0, eventError(event, "more than %d different nodes", math.MaxUint16)
	}
	i := uint16(len(n.names))
	n.index[name] = i
	n.names = append(n.names, name)
	return i, nil
}

func newBuilder(requested string) (*builder, error) {
	w, err := newWorkloadResolver(requested)
	if err != nil {
		return nil, err
	}
	return &builder{workload: w, index: map[string]int{}, pending: map[int]pendingOp{},
		nodes: &nodeNames{names: []string{""}, index: map[string]uint16{}}}, nil
}

func (b *builder) keyOf(key string) int {
	k, ok := b.index[key]
	if !ok {
		k = len(b.keys)
		b.index[key] = k
		b.keys = append(b.keys, &keyHistory{key: key, nodes: b.nodes})
	}
	return k
}

// maxEvents bounds the history: records keep event indexes in 32 bits.
const maxEvents = math.MaxInt32

// event takes the next event of a validated history, with its index.
func (b *builder) event(index int, e *history.RawEvent) error {
	if e.Process.Nemesis {
		v, err := history.DecodeValue(e.Value)
		if err != nil {
			return eventError(index, "value: %v", err)
		}
		b.faults.Add(index, history.Event{Time: e.Time, Process: e.Process, Type: e.Type, F: e.F, Value: v})
		return nil
	}
	b.faults.Add(index, history.Event{Time: e.Time})
	if index >= maxEvents || e.Process.ID > math.MaxInt32 {
		return eventError(index, "the checker takes at most %d events and process numbers below 2^31", maxEvents)
	}
	p := e.Process.ID
	if e.Type == history.Invoke {
		if err := b.workload.see(e.F, index); err != nil {
			return err
		}
		f, _ := fCodeOf(e.F) // the reader checked it
		k := b.keyOf(e.Key)
		kh := b.keys[k]
		b.pending[p] = pendingOp{key: k, rec: len(kh.recs)}
		r := opRecord{call: e.Time, ret: math.MaxInt64, invoke: int32(index), complete: -1,
			process: int32(p), f: f, typ: outcomeInfo}
		if err := kh.keep(&r, e.Value, index); err != nil {
			return err
		}
		kh.recs = append(kh.recs, r)
		return nil
	}
	at := b.pending[p]
	delete(b.pending, p)
	kh := b.keys[at.key]
	r := &kh.recs[at.rec]
	r.ret, r.typ, r.complete = e.Time, outcomeOf(e.Type), int32(index)
	if e.Node != "" {
		node, err := b.nodes.number(e.Node, index)
		if err != nil {
			return err
		}
		r.node = node
	}
	if e.Type == history.Ok && r.f == codeRead {
		return kh.keep(r, e.Value, index)
	}
	return nil
}

// keep stores raw as r's value, in the key's arena.
func (kh *keyHistory) keep(r *opRecord, raw []byte, event int) error {
	if len(kh.values)+len(raw) > math.MaxUint32 {
		return eventError(event, "the values of key %q exceed 4 GiB", kh.key)
	}
	r.off, r.n = uint32(len(kh.values)), uint32(len(raw))
	kh.values = append(kh.values, raw...)
	return nil
}

// raw is the JSON text of r's value (empty for none).
func (kh *keyHistory) raw(r *opRecord) []byte { return kh.values[r.off : r.off+r.n] }

// ops takes paired operations of an in-memory history, in invocation order.
func (b *builder) ops(ops []history.Op) error {
	for _, op := range ops {
		if err := b.workload.see(op.F, op.Invoke); err != nil {
			return err
		}
		if op.Invoke >= maxEvents || op.Complete >= maxEvents || op.Process > math.MaxInt32 {
			return eventError(op.Invoke, "the checker takes at most %d events and process numbers below 2^31", maxEvents)
		}
		f, _ := fCodeOf(op.F)
		value, at := op.Input, op.Invoke
		if f == codeRead {
			value, at = op.Output, op.Complete
		}
		text, err := rawJSON(value, at)
		if err != nil {
			return err
		}
		node, err := b.nodes.number(op.Node, op.Complete)
		if err != nil {
			return err
		}
		kh := b.keys[b.keyOf(op.Key)]
		r := opRecord{call: op.Call, ret: op.Return, invoke: int32(op.Invoke), complete: int32(op.Complete),
			process: int32(op.Process), f: f, typ: outcomeOf(op.Type), node: node}
		if err := kh.keep(&r, []byte(text), at); err != nil {
			return err
		}
		kh.recs = append(kh.recs, r)
	}
	return nil
}

// rawJSON is the JSON text of an in-memory value ("" for nil). A string
// that is not UTF-8 is refused: JSON would have to change it.
func rawJSON(v any, index int) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := history.AppendValue(nil, v)
	if err != nil {
		return "", eventError(index, "value: %v", err)
	}
	if string(b) == "null" {
		return "", nil
	}
	return string(b), nil
}

// readFile streams the history file at path into the builder.
func (b *builder) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer f.Close()
	r := history.NewReader(f, path, history.Strict)
	for {
		e, err := r.NextRaw()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := b.event(r.Index(), &e); err != nil {
			return err
		}
	}
}

// workloadResolver checks the requested workload against the operations
// as they come, or infers it from their f names when none is requested.
type workloadResolver struct {
	requested, workload string
	from                int // the invocation that decided an inferred workload
}

func newWorkloadResolver(requested string) (workloadResolver, error) {
	switch requested {
	case "", WorkloadRegister, WorkloadSet, WorkloadAppend:
	default:
		return workloadResolver{}, fmt.Errorf("check: unknown workload %q (want register, set or append)", requested)
	}
	return workloadResolver{requested: requested, workload: requested, from: -1}, nil
}

func (w *workloadResolver) see(f string, invoke int) error {
	of := workloadOf(f)
	if of == "" || of == w.workload {
		return nil
	}
	if w.workload == "" {
		w.workload, w.from = of, invoke
		return nil
	}
	if w.from >= 0 {
		return eventError(invoke, "f %q belongs to the %s workload, but event %d made this a %s history", f, of, w.from, w.workload)
	}
	return eventError(invoke, "f %q does not belong to the %s workload", f, w.workload)
}

// result is the workload: register for a history of reads only (every
// model agrees).
func (w *workloadResolver) result() string {
	if w.workload == "" {
		return WorkloadRegister
	}
	return w.workload
}
