package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/faultline/faultline/history"
)

// Outcome of an operation as the report shows it. Pending is an invocation
// whose completion is not in the history (the run ended first); it counts as
// info, since its effect is unknown too.
const (
	OutcomeOk      = "ok"
	OutcomeFail    = "fail"
	OutcomeInfo    = "info"
	OutcomePending = "pending"
)

// maxValueText bounds the text of a value kept per operation, so that a read
// of a long list does not bloat memory or the page.
const maxValueText = 60

// Op is one client operation: an invocation paired with its completion.
type Op struct {
	ID           int    // order of invocation, from 0
	Process      int    // client process number
	F            string // read, write, cas, add, append
	Key          string
	Start        int64  // invoke time, ns
	End          int64  // completion time, ns; the history's end when pending
	Outcome      string // OutcomeOk, OutcomeFail, OutcomeInfo or OutcomePending
	Value        string // the completion's value (the invocation's when absent), shortened
	Node         string // node that answered
	Error        string
	InvokeLine   int // 0-based line of the invocation in history.jsonl
	CompleteLine int // 0-based line of the completion; -1 when pending
}

// Latency is how long the operation took (until the history's end when pending).
func (o *Op) Latency() int64 { return o.End - o.Start }

// Succeeded reports whether the operation completed ok.
func (o *Op) Succeeded() bool { return o.Outcome == OutcomeOk }

// Fault is one nemesis interval: from a "<kind>-start" event to the matching
// "<kind>-end". Instant nemesis events (no -start/-end suffix) have End == Start.
type Fault struct {
	Kind      string
	Start     int64
	End       int64
	Healed    bool   // false when the history ends before the -end event
	Detail    string // the start event's value, as compact JSON
	EndDetail string
	Line      int // 0-based line of the start event
}

// Duration of the fault (0 for instant events).
func (f *Fault) Duration() int64 { return f.End - f.Start }

// History is what the report needs from history.jsonl. Its operations are
// kept in columns (opColumns: 17 bytes each, keys interned), so that a
// million-operation history takes some 17 MB rather than the 300 MB of one
// Op with its own strings each. What only a page shows of an operation
// (process, lines, value, node, error) is read again from the file for the
// few operations it shows (fetchDetails, opsAtLines).
type History struct {
	ops     opColumns
	names   []string          // keys, interned; names[0] is ""
	details map[int]opDetails // by operation: what fetchDetails read
	open    func() (io.ReadCloser, error)
	name    string
	// Processes is the number of client processes.
	Processes int
	// Faults are the nemesis intervals.
	Faults []Fault
	// Lines is the number of lines read; EndTime the largest event time.
	Lines   int
	EndTime int64
	// Problems are lines that could not be used, each naming the file and
	// line; a half-written last line is one of them.
	Problems []string
}

// opDetails are what a page shows of an operation beyond opColumns.
type opDetails struct {
	process, invokeLine, completeLine int
	value, node, err                  string
}

// fNames and outcomes are the values of opColumns' codes.
var (
	fNames   = []string{history.FRead, history.FWrite, history.FCas, history.FAdd, history.FAppend}
	outcomes = []string{OutcomeOk, OutcomeFail, OutcomeInfo, OutcomePending}
)

// outcomePendingCode is the code of OutcomePending; the codes agree with
// outcomeCode.
const outcomePendingCode = 3

// Len is the number of operations.
func (h *History) Len() int { return h.ops.len() }

// Op is the i-th operation, in invocation order. Its Process, lines, Value,
// Node and Error are zero unless fetchDetails read them.
func (h *History) Op(i int) Op {
	op := Op{ID: i, F: fNames[h.ops.f(i)], Key: h.names[h.ops.key(i)], Start: h.ops.start(i), End: h.ops.end(i, h.EndTime),
		Outcome: outcomes[h.ops.outcome(i)]}
	if d, ok := h.details[i]; ok {
		op.Process, op.InvokeLine, op.CompleteLine = d.process, d.invokeLine, d.completeLine
		op.Value, op.Node, op.Error = d.value, d.node, d.err
	}
	return op
}

// succeeded is Op(i).Succeeded() without building the Op.
func (h *History) succeeded(i int) bool { return h.ops.outcome(i) == 0 }

// eachOp reads the history again and calls visit with each client event
// the first read took, the index of its operation and its 0-based line.
func (h *History) eachOp(visit func(i, line int, e *history.RawEvent)) error {
	if h.open == nil {
		return nil
	}
	rc, err := h.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	busy := map[int]int{} // process -> its op in flight
	hr := history.NewReader(rc, h.name, history.Strict)
	n := 0
	var pe *history.ParseError
	var e history.RawEvent // one for all events: visit takes its address
	for {
		var err error
		e, err = hr.NextRaw()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.As(err, &pe) {
			if pe.Truncated {
				return nil
			}
			continue // skipped as the first read skipped it
		}
		if err != nil {
			return err
		}
		if e.Process.Nemesis {
			continue
		}
		i := n
		if e.Type == history.Invoke {
			busy[e.Process.ID] = n
			n++
		} else {
			i = busy[e.Process.ID]
			delete(busy, e.Process.ID)
		}
		visit(i, hr.Line()-1, &e)
	}
}

// fetchDetails reads the history again for what Op gives only once read:
// the process, lines, value, node and error of the operations in want.
func (h *History) fetchDetails(want map[int]bool) error {
	if len(want) == 0 {
		return nil
	}
	h.details = make(map[int]opDetails, len(want))
	var compact bytes.Buffer
	var text []byte
	return h.eachOp(func(i, line int, e *history.RawEvent) {
		if !want[i] {
			return
		}
		if e.Type == history.Invoke {
			text = appendValueText(text[:0], e.Value, &compact)
			h.details[i] = opDetails{process: e.Process.ID, invokeLine: line, completeLine: -1, value: string(text)}
			return
		}
		d := h.details[i]
		d.completeLine, d.node, d.err = line, e.Node, e.Error
		if len(e.Value) > 0 && string(e.Value) != "null" || e.F == history.FRead {
			text = appendValueText(text[:0], e.Value, &compact)
			d.value = string(text)
		}
		h.details[i] = d
	})
}

// opsAtLines maps each of the given history lines (invocations or
// completions) to the index of the operation it belongs to, reading the
// history again (only when there are lines to find).
func (h *History) opsAtLines(lines []int) (map[int]int, error) {
	out := make(map[int]int, len(lines))
	if len(lines) == 0 {
		return out, nil
	}
	want := make(map[int]bool, len(lines))
	for _, l := range lines {
		want[l] = true
	}
	err := h.eachOp(func(i, line int, _ *history.RawEvent) {
		if want[line] {
			out[line] = i
		}
	})
	return out, err
}

// maxProblems bounds how many unusable lines are listed individually.
const maxProblems = 20

// readHistory reads a history file tolerantly: bad lines are skipped and
// named in Problems, never fatal. Only a file that cannot be opened is an error.
func readHistory(fsys fs.FS, name string) (*History, error) {
	return decodeHistory(func() (io.ReadCloser, error) { return fsys.Open(name) }, name)
}

// historyDecoder pairs invocations with completions while streaming events
// from history.Reader; faults pair by history.Faults, the one rule.
type historyDecoder struct {
	name      string
	h         *History
	busy      map[int]int       // process -> index of its open op in h.ops
	index     map[string]uint32 // interned keys -> index into h.names
	processes map[int]bool
	started   map[string]int // fault kind -> starts not yet ended (to name lonely ends)
	faults    history.Faults
	lines     map[int]int // 0-based line of each nemesis event, by event index
	read      int         // lines read so far (events and refused lines)
	dropped   int
}

// decodeHistory reads the history open opens with history's one reader, in
// Strict mode: a line the reader refuses is named in Problems and skipped,
// and reading goes on (a cut last line is one of them). Only a failing read
// is an error. fetchDetails opens it again.
func decodeHistory(open func() (io.ReadCloser, error), name string) (*History, error) {
	r, err := open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	d := &historyDecoder{
		name:      name,
		h:         &History{names: []string{""}, open: open, name: name},
		processes: map[int]bool{},
		index:     map[string]uint32{"": 0},
		busy:      map[int]int{},
		started:   map[string]int{},
		lines:     map[int]int{},
	}
	hr := history.NewReader(r, name, history.Strict)
	var pe *history.ParseError
	for {
		e, err := hr.NextRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &pe) {
			d.problem(pe)
			if pe.Truncated {
				break
			}
			continue
		}
		if err != nil {
			d.finish()
			return d.h, err
		}
		d.event(hr.Index(), hr.Line()-1, e)
	}
	d.finish()
	return d.h, nil
}

func (d *historyDecoder) problem(pe *history.ParseError) {
	d.read = max(d.read, pe.Line)
	if len(d.h.Problems) < maxProblems {
		msg := pe.Error()
		if pe.Truncated {
			msg = fmt.Sprintf("%s:%d: half-written last line ignored", pe.File, pe.Line)
		}
		d.h.Problems = append(d.h.Problems, msg)
		return
	}
	d.dropped++
}

func (d *historyDecoder) event(index, line int, e history.RawEvent) {
	d.read = max(d.read, line+1)
	d.h.EndTime = max(d.h.EndTime, e.Time)
	if e.Process.Nemesis {
		d.nemesis(index, line, e)
		return
	}
	d.faults.Add(index, history.Event{Time: e.Time, Process: e.Process}) // client events move the end only
	d.processes[e.Process.ID] = true
	if e.Type == history.Invoke {
		d.busy[e.Process.ID] = d.h.ops.add(e.Time, d.intern(e.Key), fCode(e.F))
		return
	}
	// The reader validated the pairing: the process has an open invocation.
	i := d.busy[e.Process.ID]
	delete(d.busy, e.Process.ID)
	d.h.ops.complete(i, e.Time, uint8(outcomeCode[string(e.Type)]))
}

// intern interns a key.
func (d *historyDecoder) intern(s string) uint32 {
	if i, ok := d.index[s]; ok {
		return i
	}
	i := uint32(len(d.h.names))
	d.index[s] = i
	d.h.names = append(d.h.names, s)
	return i
}

// fCode is the index of f in fNames (the reader accepts no other).
func fCode(f string) uint8 {
	for i, name := range fNames {
		if name == f {
			return uint8(i)
		}
	}
	return 0
}

func (d *historyDecoder) nemesis(index, line int, raw history.RawEvent) {
	e, err := raw.Decode()
	if err != nil { // the reader validated the value: cannot happen
		d.problem(&history.ParseError{File: d.name, Line: line + 1, Msg: err.Error()})
		return
	}
	d.lines[index] = line
	switch {
	case strings.HasSuffix(e.F, "-start"):
		d.started[strings.TrimSuffix(e.F, "-start")]++
	case strings.HasSuffix(e.F, "-end"):
		kind := strings.TrimSuffix(e.F, "-end")
		if d.started[kind] == 0 {
			d.problem(&history.ParseError{File: d.name, Line: line + 1, Msg: fmt.Sprintf("%s without a matching %s-start", e.F, kind)})
		} else {
			d.started[kind]--
		}
	}
	d.faults.Add(index, e)
}

// finish closes what the history left open at its end.
func (d *historyDecoder) finish() {
	d.h.Lines = d.read
	d.h.Processes = len(d.processes)
	for _, iv := range d.faults.Intervals() {
		d.h.Faults = append(d.h.Faults, Fault{Kind: iv.Kind, Start: iv.Start, End: max(iv.End, iv.Start), Healed: !iv.Open(),
			Detail: iv.Detail, EndDetail: iv.EndDetail, Line: d.lines[iv.StartEvent]})
	}
	sort.SliceStable(d.h.Faults, func(a, b int) bool { return d.h.Faults[a].Start < d.h.Faults[b].Start })
	if d.dropped > 0 {
		d.h.Problems = append(d.h.Problems, fmt.Sprintf("%s: %d more unusable lines not listed", d.name, d.dropped))
	}
}

// appendValueText appends the text of a raw JSON value as people read it
// to b: strings unquoted, null as nil, anything else as its compact JSON,
// at most maxValueText runes. It allocates only for values with escapes or
// spaces (scratch holds a compacted value).
func appendValueText(b, raw []byte, scratch *bytes.Buffer) []byte {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return append(b, "nil"...)
	case raw[0] == '"':
		if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
			return appendShortened(b, inner, maxValueText)
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return appendShortened(b, []byte(s), maxValueText)
		}
	case bytes.ContainsAny(raw, " \t\r\n"):
		scratch.Reset()
		if json.Compact(scratch, raw) == nil {
			raw = scratch.Bytes()
		}
	}
	return appendShortened(b, raw, maxValueText)
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string(appendShortened(nil, []byte(s), n))
}

// appendShortened appends s cut to at most n runes (the last one "…" when
// cut) to b.
func appendShortened(b, s []byte, n int) []byte {
	if len(s) <= n || utf8.RuneCount(s) <= n {
		return append(b, s...)
	}
	end := 0
	for range n - 1 {
		_, size := utf8.DecodeRune(s[end:])
		end += size
	}
	return append(append(b, s[:end]...), "…"...)
}
