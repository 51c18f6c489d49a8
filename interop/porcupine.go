package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// The Porcupine format is what encoding/json makes of porcupine.Operation
// values (ClientId, Input, Call, Output, Return, Metadata), with Input and
// Output in the shapes below, either as a bare JSON array of operations or
// as {"operations": [...], "annotations": [...]}, the annotations being
// porcupine.Annotation values (the faults). An operation whose outcome is
// unknown returns at math.MaxInt64 (it may take effect any time after its
// call), as Faultline's own check hands it to Porcupine.

// PorcupineInput is an operation's Input: Op is read, write, cas, add or
// append; Value the value written, added or appended, or [expected, new]
// for a cas.
type PorcupineInput struct {
	Op    string `json:"op"`
	Key   string `json:"key"`
	Value any    `json:"value,omitempty"`
}

// PorcupineOutput is an operation's Output: the value a read returned
// (null for absent); Failed for an operation that definitely did not take
// effect (a cas whose expected value did not match, a refused write);
// Unknown for one whose outcome is unknown.
type PorcupineOutput struct {
	Value   any    `json:"value"`
	Failed  bool   `json:"failed,omitempty"`
	Unknown bool   `json:"unknown,omitempty"`
	Error   string `json:"error,omitempty"`
}

// PorcupineMetadata is an operation's Metadata: what Porcupine ignores and
// Faultline keeps.
type PorcupineMetadata struct {
	Node    string `json:"node,omitempty"`
	Latency int64  `json:"latency,omitempty"`
	// Completed is when an operation of unknown outcome was given up on
	// (its info completion), since Return is infinity.
	Completed *int64 `json:"completed,omitempty"`
}

// porcupineOp has porcupine.Operation's JSON field names with typed Input,
// Output and Metadata (porcupine.Operation holds them as interface{}).
type porcupineOp struct {
	ClientId int
	Input    PorcupineInput
	Call     int64
	Output   PorcupineOutput
	Return   int64
	Metadata *PorcupineMetadata
}

// porcupineFile is the object form of the format.
type porcupineFile struct {
	Operations  []porcupineOp          `json:"operations"`
	Annotations []porcupine.Annotation `json:"annotations,omitempty"`
}

// nemesisTag marks the annotations that carry fault events.
const nemesisTag = "nemesis"

// WritePorcupine writes events as {"operations": [...], "annotations":
// [...]}: one operation per client operation, one annotation per fault
// interval, whose Details hold the interval's fault events as JSON so that
// ReadPorcupine gets them back exactly.
func WritePorcupine(w io.Writer, events []history.Event) error {
	ops, err := history.Pair(events)
	if err != nil {
		return fmt.Errorf("porcupine export: %w", err)
	}
	out := porcupineFile{Operations: make([]porcupineOp, 0, len(ops))}
	for _, op := range ops {
		out.Operations = append(out.Operations, toPorcupine(op, events))
	}
	for _, iv := range history.NemesisIntervals(events) {
		a, err := faultAnnotation(iv, events)
		if err != nil {
			return err
		}
		out.Annotations = append(out.Annotations, a)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

func toPorcupine(op history.Op, events []history.Event) porcupineOp {
	p := porcupineOp{ClientId: op.Process, Call: op.Call, Return: op.Return,
		Input: PorcupineInput{Op: op.F, Key: op.Key, Value: op.Input}}
	meta := PorcupineMetadata{Node: op.Node}
	if op.Completed() {
		done := events[op.Complete]
		p.Output.Error, meta.Latency = done.Error, done.Latency
	}
	switch op.Type {
	case history.Ok:
		p.Output.Value = op.Output
	case history.Fail:
		p.Output.Failed = true
	default:
		p.Output.Unknown, p.Return = true, math.MaxInt64
		if op.Completed() {
			meta.Completed = &events[op.Complete].Time
		}
	}
	if meta != (PorcupineMetadata{}) {
		p.Metadata = &meta
	}
	return p
}

func faultAnnotation(iv history.Interval, events []history.Event) (porcupine.Annotation, error) {
	mine := []history.Event{events[iv.StartEvent]}
	if iv.EndEvent > iv.StartEvent {
		mine = append(mine, events[iv.EndEvent])
	}
	details, err := json.Marshal(mine)
	if err != nil {
		return porcupine.Annotation{}, fmt.Errorf("porcupine export: fault at %d ns: %w", iv.Start, err)
	}
	return porcupine.Annotation{Tag: nemesisTag, Start: iv.Start, End: iv.End,
		Description: iv.Description, Details: string(details)}, nil
}

// ReadPorcupine reads operations in the Porcupine format. Client ids are
// kept as process numbers, except that an id whose operation is still
// pending, or whose earlier operation's outcome is unknown, continues
// under a fresh number (the history contract's rule for clients). Errors
// name the file and the operation's index.
func ReadPorcupine(r io.Reader, name string) ([]history.Event, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var file porcupineFile
	trimmed := bytes.TrimSpace(raw)
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if len(trimmed) > 0 && trimmed[0] == '[' {
		err = dec.Decode(&file.Operations)
	} else {
		err = dec.Decode(&file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not Porcupine operations as JSON: %v", name, err)
	}
	var timed []timedEvent
	procs := newProcessAssigner(file.Operations)
	for i, op := range procs.ops {
		evs, err := fromPorcupine(op.porcupineOp, procs.assign(op))
		if err != nil {
			return nil, fmt.Errorf("%s: operation %d: %w", name, op.index, err)
		}
		for _, e := range evs {
			timed = append(timed, timedEvent{e, i})
		}
	}
	for i, a := range file.Annotations {
		if a.Tag != nemesisTag {
			continue
		}
		evs, err := faultEvents(a)
		if err != nil {
			return nil, fmt.Errorf("%s: annotation %d: %w", name, i, err)
		}
		for _, e := range evs {
			timed = append(timed, timedEvent{e, -1})
		}
	}
	slices.SortStableFunc(timed, func(a, b timedEvent) int { return a.compare(b) })
	events := make([]history.Event, len(timed))
	for i, t := range timed {
		events[i] = t.Event
	}
	return validated(events, name)
}

// timedEvent orders events by time; at one instant completions come
// before invocations (Porcupine's intervals are closed, so the order at a
// tie does not change the verdict, but a process must finish one operation
// before it starts the next).
type timedEvent struct {
	history.Event
	op int
}

func (a timedEvent) compare(b timedEvent) int {
	if a.Time != b.Time {
		if a.Time < b.Time {
			return -1
		}
		return 1
	}
	ai, bi := a.Type == history.Invoke, b.Type == history.Invoke
	switch {
	case ai && !bi:
		return 1
	case !ai && bi:
		return -1
	}
	return 0
}

func fromPorcupine(op porcupineOp, process int) ([]history.Event, error) {
	switch op.Input.Op {
	case history.FRead, history.FWrite, history.FCas, history.FAdd, history.FAppend:
	default:
		return nil, fmt.Errorf("its Input.op must be read, write, cas, add or append, got %q", op.Input.Op)
	}
	if op.Input.Key == "" {
		return nil, fmt.Errorf("its Input.key is missing")
	}
	if op.Call < 0 {
		return nil, fmt.Errorf("its Call %d is negative", op.Call)
	}
	p := history.Client(process)
	invoke := history.Event{Time: op.Call, Process: p, Type: history.Invoke, F: op.Input.Op, Key: op.Input.Key, Value: op.Input.Value}
	if op.Input.Op == history.FRead {
		invoke.Value = nil
	}
	meta := PorcupineMetadata{}
	if op.Metadata != nil {
		meta = *op.Metadata
	}
	done := history.Event{Time: op.Return, Process: p, Type: history.Ok, F: op.Input.Op, Key: op.Input.Key,
		Value: invoke.Value, Node: meta.Node, Error: op.Output.Error, Latency: meta.Latency}
	switch {
	case op.Output.Unknown || op.Return == math.MaxInt64:
		if meta.Completed == nil {
			return []history.Event{invoke}, nil
		}
		done.Type, done.Time = history.Info, *meta.Completed
	case op.Output.Failed:
		done.Type = history.Fail
	case op.Input.Op == history.FRead:
		done.Value = op.Output.Value
	}
	if done.Time < op.Call {
		return nil, fmt.Errorf("returns at %d, before its call at %d", done.Time, op.Call)
	}
	return []history.Event{invoke, done}, nil
}

// faultEvents gets the fault events of an annotation back from its Details,
// or, for an annotation another tool wrote, makes a start and an end event
// named by its Description.
func faultEvents(a porcupine.Annotation) ([]history.Event, error) {
	var evs []history.Event
	dec := json.NewDecoder(bytes.NewReader([]byte(a.Details)))
	dec.UseNumber()
	if dec.Decode(&evs) == nil && len(evs) > 0 {
		for _, e := range evs {
			if !e.Process.Nemesis || e.Type != history.Info {
				return nil, fmt.Errorf("its Details must hold nemesis info events, got %s %s", e.Process, e.Type)
			}
		}
		return evs, nil
	}
	kind := a.Description
	if kind == "" {
		kind = "fault"
	}
	start := history.Event{Time: a.Start, Process: history.NemesisProcess, Type: history.Info, F: kind + "-start"}
	end := start
	end.Time, end.F = max(a.End, a.Start), kind+"-end"
	return []history.Event{start, end}, nil
}

// processAssigner gives each operation a process number that the history
// contract accepts.
type processAssigner struct {
	ops    []indexedOp
	freeAt map[int]int64 // process -> when its last operation returned
	dead   map[int]bool  // processes whose outcome was unknown
	next   int
}

type indexedOp struct {
	porcupineOp
	index int
}

func newProcessAssigner(ops []porcupineOp) *processAssigner {
	a := &processAssigner{freeAt: map[int]int64{}, dead: map[int]bool{}}
	for i, op := range ops {
		a.ops = append(a.ops, indexedOp{op, i})
		a.next = max(a.next, op.ClientId+1)
	}
	slices.SortStableFunc(a.ops, func(x, y indexedOp) int {
		switch {
		case x.Call < y.Call:
			return -1
		case x.Call > y.Call:
			return 1
		}
		return 0
	})
	return a
}

func (a *processAssigner) assign(op indexedOp) int {
	p := op.ClientId
	if free, busy := a.freeAt[p]; a.dead[p] || (busy && free > op.Call) || p < 0 {
		p = a.next
		a.next++
	}
	if op.Output.Unknown || op.Return == math.MaxInt64 {
		a.dead[p] = true
	}
	a.freeAt[p] = op.Return
	return p
}
