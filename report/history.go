package report

import (
	"bufio"
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

// historyDecoder pairs invocations with completions while streaming.
type historyDecoder struct {
	name     string
	h        *History
	busy     map[int]int // process -> index of its open op in h.Ops
	open     map[string][]int
	interned map[string]string
	dropped  int
}

func decodeHistory(r io.Reader, name string) (*History, error) {
	return decodeHistorySized(r, name, 0)
}

// decodeHistorySized reads a history of about size bytes (0: unknown).
func decodeHistorySized(r io.Reader, name string, size int64) (*History, error) {
	d := &historyDecoder{
		name:     name,
		h:        &History{Ops: make([]Op, 0, size/bytesPerOp)},
		busy:     map[int]int{},
		open:     map[string][]int{},
		interned: map[string]string{},
	}
	br := bufio.NewReaderSize(r, 1<<16)
	line := 0
	var long []byte // a line longer than the reader's buffer, assembled
	for {
		// ReadSlice avoids a copy per line; the decoder copies what it keeps.
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, b...)
			continue
		}
		if long != nil {
			b = append(long, b...)
			long = nil
		}
		if len(b) > 0 {
			complete := b[len(b)-1] == '\n'
			d.line(line, bytes.TrimSpace(b), complete)
			line++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return d.h, fmt.Errorf("%s:%d: %w", name, line+1, err)
		}
	}
	d.h.Lines = line
	d.finish()
	return d.h, nil
}

func (d *historyDecoder) problem(line int, format string, args ...any) {
	if len(d.h.Problems) < maxProblems {
		d.h.Problems = append(d.h.Problems, fmt.Sprintf("%s:%d: %s", d.name, line+1, fmt.Sprintf(format, args...)))
		return
	}
	d.dropped++
}

func (d *historyDecoder) intern(s string) string {
	if v, ok := d.interned[s]; ok {
		return v
	}
	d.interned[s] = s
	return s
}

// lineEvent is one history line as the report reads it: the value stays raw
// JSON, since the report only shows it, which makes reading a
// million-operation history several times cheaper than decoding values.
type lineEvent struct {
	Time    int64           `json:"time"`
	Process json.RawMessage `json:"process"`
	Type    history.Type    `json:"type"`
	F       string          `json:"f"`
	Key     string          `json:"key"`
	Value   json.RawMessage `json:"value"`
	Node    string          `json:"node"`
	Error   string          `json:"error"`
}

func (d *historyDecoder) line(line int, b []byte, complete bool) {
	if len(b) == 0 {
		return
	}
	var e lineEvent
	if err := json.Unmarshal(b, &e); err != nil {
		if !complete {
			d.problem(line, "half-written last line ignored")
		} else {
			d.problem(line, "unreadable event: %v", err)
		}
		return
	}
	var proc history.Process
	if err := proc.UnmarshalJSON(e.Process); err != nil {
		d.problem(line, "%v", err)
		return
	}
	if e.Time > d.h.EndTime {
		d.h.EndTime = e.Time
	}
	if proc.Nemesis {
		d.nemesis(line, e)
		return
	}
	switch e.Type {
	case history.Invoke:
		if prev, busy := d.busy[proc.ID]; busy {
			d.problem(line, "process %d invoked again while op at line %d is open", proc.ID, d.h.Ops[prev].InvokeLine+1)
			return
		}
		op := Op{
			ID: len(d.h.Ops), Process: proc.ID, F: d.intern(e.F), Key: d.intern(e.Key),
			Start: e.Time, End: -1, Outcome: OutcomePending,
			Value: rawValueText(e.Value), InvokeLine: line, CompleteLine: -1,
		}
		d.busy[proc.ID] = len(d.h.Ops)
		d.h.Ops = append(d.h.Ops, op)
	case history.Ok, history.Fail, history.Info:
		i, busy := d.busy[proc.ID]
		if !busy {
			d.problem(line, "%s from process %d without an invocation", e.Type, proc.ID)
			return
		}
		delete(d.busy, proc.ID)
		op := &d.h.Ops[i]
		op.End = e.Time
		op.Outcome = string(e.Type)
		op.CompleteLine = line
		op.Node = d.intern(e.Node)
		op.Error = d.intern(e.Error)
		if v := rawValueText(e.Value); v != "nil" || e.F == history.FRead {
			op.Value = v
		}
	default:
		d.problem(line, "unknown type %q", e.Type)
	}
}

func (d *historyDecoder) nemesis(line int, e lineEvent) {
	detail := rawDetail(e.Value)
	switch {
	case strings.HasSuffix(e.F, "-start"):
		kind := strings.TrimSuffix(e.F, "-start")
		d.open[kind] = append(d.open[kind], len(d.h.Faults))
		d.h.Faults = append(d.h.Faults, Fault{Kind: kind, Start: e.Time, End: -1, Detail: detail, Line: line})
	case strings.HasSuffix(e.F, "-end"):
		kind := strings.TrimSuffix(e.F, "-end")
		q := d.open[kind]
		if len(q) == 0 {
			d.problem(line, "%s without a matching %s-start", e.F, kind)
			return
		}
		// Faults of one kind heal in the order they started.
		i := q[0]
		d.open[kind] = q[1:]
		d.h.Faults[i].End = e.Time
		d.h.Faults[i].Healed = true
		d.h.Faults[i].EndDetail = detail
	default:
		d.h.Faults = append(d.h.Faults, Fault{Kind: e.F, Start: e.Time, End: e.Time, Healed: true, Detail: detail, Line: line})
	}
}

// finish closes what the history left open at its end.
func (d *historyDecoder) finish() {
	for i := range d.h.Ops {
		if d.h.Ops[i].End < 0 {
			d.h.Ops[i].End = max(d.h.EndTime, d.h.Ops[i].Start)
		}
	}
	for i := range d.h.Faults {
		if d.h.Faults[i].End < 0 {
			d.h.Faults[i].End = max(d.h.EndTime, d.h.Faults[i].Start)
		}
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
