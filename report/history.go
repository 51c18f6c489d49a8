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

// History is what the report needs from history.jsonl.
type History struct {
	Ops    []Op
	Faults []Fault
	// Lines is the number of lines read; EndTime the largest event time.
	Lines   int
	EndTime int64
	// Problems are lines that could not be used, each naming the file and
	// line; a half-written last line is one of them.
	Problems []string
}

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
	for i := range h.Ops {
		if want[h.Ops[i].InvokeLine] {
			out[h.Ops[i].InvokeLine] = i
		}
		if c := h.Ops[i].CompleteLine; c >= 0 && want[c] {
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
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	return decodeHistorySized(f, name, size)
}

// bytesPerOp is roughly what one operation (two lines) takes in a history,
// used to size the operations slice once instead of growing it.
const bytesPerOp = 160

// historyDecoder pairs invocations with completions while streaming events
// from history.Reader; faults pair by history.Faults, the one rule.
type historyDecoder struct {
	name    string
	h       *History
	busy    map[int]int    // process -> index of its open op in h.Ops
	started map[string]int // fault kind -> starts not yet ended (to name lonely ends)
	faults  history.Faults
	lines   map[int]int // 0-based line of each nemesis event, by event index
	read    int         // lines read so far (events and refused lines)
	dropped int
}

func decodeHistory(r io.Reader, name string) (*History, error) {
	return decodeHistorySized(r, name, 0)
}

// decodeHistorySized reads a history of about size bytes (0: unknown) with
// history's one reader, in Strict mode: a line the reader refuses is named
// in Problems and skipped, and reading goes on (a cut last line is one of
// them). Only a failing read of r is an error.
func decodeHistorySized(r io.Reader, name string, size int64) (*History, error) {
	d := &historyDecoder{
		name:    name,
		h:       &History{Ops: make([]Op, 0, size/bytesPerOp)},
		busy:    map[int]int{},
		started: map[string]int{},
		lines:   map[int]int{},
	}
	hr := history.NewReader(r, name, history.Strict)
	for {
		e, err := hr.NextRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *history.ParseError
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
		d.busy[e.Process.ID] = len(d.h.Ops)
		d.h.Ops = append(d.h.Ops, Op{
			ID: len(d.h.Ops), Process: e.Process.ID, F: e.F, Key: e.Key,
			Start: e.Time, End: -1, Outcome: OutcomePending,
			Value: rawValueText(e.Value), InvokeLine: line, CompleteLine: -1,
		})
		return
	}
	// The reader validated the pairing: the process has an open invocation.
	i := d.busy[e.Process.ID]
	delete(d.busy, e.Process.ID)
	op := &d.h.Ops[i]
	op.End = e.Time
	op.Outcome = string(e.Type)
	op.CompleteLine = line
	op.Node = e.Node
	op.Error = e.Error
	if v := rawValueText(e.Value); v != "nil" || e.F == history.FRead {
		op.Value = v
	}
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
	for i := range d.h.Ops {
		if d.h.Ops[i].End < 0 {
			d.h.Ops[i].End = max(d.h.EndTime, d.h.Ops[i].Start)
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

// rawValueText renders a raw JSON value briefly for people: strings
// unquoted, null as nil, anything else as its compact JSON.
func rawValueText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "nil"
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return shorten(s, maxValueText)
		}
	}
	return shorten(rawDetail(raw), maxValueText)
}

// rawDetail is a raw JSON value without insignificant space ("" for null).
func rawDetail(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
