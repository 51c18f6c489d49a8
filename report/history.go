package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
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
// kept compact (32 bytes each, keys interned), so that a million-operation
// history takes some 32 MB rather than the 300 MB of one Op with its own
// strings each. The texts people read (value, node, error) are fetched by a
// second read of the file for the few operations the page shows
// (fetchDetails); Op(i) gives an operation back whole.
type History struct {
	ops   opRecs
	names []string // keys, interned; names[0] is ""
	// farCompletions are the completion lines too far from their
	// invocation for opRec.complDelta, by operation.
	farCompletions map[int]int
	details        map[int]opDetails // by operation: what fetchDetails read
	open           func() (io.ReadCloser, error)
	name           string
	// Faults are the nemesis intervals.
	Faults []Fault
	// Lines is the number of lines read; EndTime the largest event time.
	Lines   int
	EndTime int64
	// Problems are lines that could not be used, each naming the file and
	// line; a half-written last line is one of them.
	Problems []string
}

// opRec is an Op as History keeps it, without its texts.
type opRec struct {
	start, end int64
	process    int32
	key        uint32 // index into History.names
	invokeLine int32
	// complDelta is the completion's line minus the invocation's: 0 when
	// pending, farCompletion when History.farCompletions holds the line.
	complDelta uint16
	f          uint8 // index into fNames
	outcome    uint8 // index into outcomes, which agrees with outcomeCode
}

const farCompletion = math.MaxUint16

// opDetails are the texts of an operation.
type opDetails struct{ value, node, err string }

// fNames and outcomes are the values opRec codes.
var (
	fNames   = []string{history.FRead, history.FWrite, history.FCas, history.FAdd, history.FAppend}
	outcomes = []string{OutcomeOk, OutcomeFail, OutcomeInfo, OutcomePending}
)

// Len is the number of operations.
func (h *History) Len() int { return h.ops.len() }

// Op is the i-th operation, in invocation order. Its Value, Node and Error
// are empty unless fetchDetails read them.
func (h *History) Op(i int) Op {
	r := h.ops.at(i)
	op := Op{ID: i, Process: int(r.process), F: fNames[r.f], Key: h.names[r.key], Start: r.start, End: r.end,
		Outcome: outcomes[r.outcome], InvokeLine: int(r.invokeLine), CompleteLine: h.completeLine(i, r)}
	if len(h.details) > 0 {
		d := h.details[i]
		op.Value, op.Node, op.Error = d.value, d.node, d.err
	}
	return op
}

// completeLine is the 0-based line of op i's completion, -1 when pending.
func (h *History) completeLine(i int, r *opRec) int {
	switch r.complDelta {
	case 0:
		return -1
	case farCompletion:
		return h.farCompletions[i]
	}
	return int(r.invokeLine) + int(r.complDelta)
}

// fetchDetails reads the history again for the value, node and error of
// the operations in want (by index).
func (h *History) fetchDetails(want map[int]bool) error {
	if len(want) == 0 || h.open == nil {
		return nil
	}
	rc, err := h.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	h.details = make(map[int]opDetails, len(want))
	busy := map[int]int{} // process -> its wanted op in flight
	var compact bytes.Buffer
	var text []byte
	hr := history.NewReader(rc, h.name, history.Strict)
	n := 0
	for {
		e, err := hr.NextRaw()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if pe := (*history.ParseError)(nil); errors.As(err, &pe) {
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
		if e.Type == history.Invoke {
			if want[n] {
				busy[e.Process.ID] = n
				text = appendValueText(text[:0], e.Value, &compact)
				h.details[n] = opDetails{value: string(text)}
			}
			n++
			continue
		}
		i, ok := busy[e.Process.ID]
		if !ok {
			continue
		}
		delete(busy, e.Process.ID)
		d := h.details[i]
		d.node, d.err = e.Node, e.Error
		if len(e.Value) > 0 && string(e.Value) != "null" || e.F == history.FRead {
			text = appendValueText(text[:0], e.Value, &compact)
			d.value = string(text)
		}
		h.details[i] = d
	}
}

// succeeded is Op(i).Succeeded() without building the Op.
func (h *History) succeeded(i int) bool { return h.ops.at(i).outcome == 0 }

// opsAtLines maps each of the given history lines (invocations or
// completions) to the index in Ops of the operation it belongs to. It scans
// once instead of indexing every line, which would cost more memory than the
// operations themselves on a million-operation history.
func (h *History) opsAtLines(lines []int) map[int]int {
	want := make(map[int]bool, len(lines))
	for _, l := range lines {
		want[l] = true
	}
	out := make(map[int]int, len(lines))
	if len(want) == 0 {
		return out
	}
	for i := range h.ops.len() {
		r := h.ops.at(i)
		if l := int(r.invokeLine); want[l] {
			out[l] = i
		}
		if c := h.completeLine(i, r); c >= 0 && want[c] {
			out[c] = i
		}
	}
	return out
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
	name    string
	h       *History
	busy    map[int]int       // process -> index of its open op in h.ops
	index   map[string]uint32 // interned keys -> index into h.names
	started map[string]int    // fault kind -> starts not yet ended (to name lonely ends)
	faults  history.Faults
	lines   map[int]int // 0-based line of each nemesis event, by event index
	read    int         // lines read so far (events and refused lines)
	dropped int
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
		name:    name,
		h:       &History{names: []string{""}, farCompletions: map[int]int{}, open: open, name: name},
		index:   map[string]uint32{"": 0},
		busy:    map[int]int{},
		started: map[string]int{},
		lines:   map[int]int{},
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
	if e.Type == history.Invoke {
		r := opRec{start: e.Time, end: -1, process: int32(e.Process.ID), invokeLine: int32(line),
			key: d.intern(e.Key), f: fCode(e.F), outcome: 3}
		d.busy[e.Process.ID] = d.h.ops.add(r)
		return
	}
	// The reader validated the pairing: the process has an open invocation.
	i := d.busy[e.Process.ID]
	delete(d.busy, e.Process.ID)
	r := d.h.ops.at(i)
	r.end = e.Time
	r.outcome = uint8(outcomeCode[string(e.Type)])
	if delta := line - int(r.invokeLine); delta < farCompletion {
		r.complDelta = uint16(delta)
	} else {
		r.complDelta = farCompletion
		d.h.farCompletions[i] = line
	}
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
	for i := range d.h.ops.len() {
		if r := d.h.ops.at(i); r.end < 0 {
			r.end = max(d.h.EndTime, r.start)
		}
	}
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
