package history

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// LintFile is Lint of the history file at path, read as a stream twice,
// so that a history of any length is linted in memory proportional to its
// failed writes, not to its events. Pass 1 gives the timeout warnings and
// gathers the failed writes by key and value; pass 2, only when some write
// failed, counts the other operations that may have written those values
// and finds the first ok read (in invocation order) that returned each.
// The warnings are Lint's, in the same order.
//
// A line the reader refuses ends the history: the warnings of the events
// before it are returned with the reader's error (a *ParseError naming the
// file and line), so a history a crash cut short is still linted.
func LintFile(path string) ([]Warning, error) {
	l := &fileLinter{failed: map[keyValue][]*failedWrite{}, keys: map[string]bool{}}
	n, readErr := l.stream(path, -1, l.first)
	if n < 0 {
		return nil, readErr
	}
	if len(l.failed) > 0 {
		l.writers = map[keyValue]int{}
		if _, err := l.stream(path, n, l.second); err != nil {
			return nil, err
		}
		l.finishSecond()
	}
	out := append(l.timeouts, l.readWarnings()...)
	slices.SortStableFunc(out, func(a, b Warning) int { return a.Event - b.Event })
	return out, readErr
}

type keyValue struct{ key, value string }

// failedWrite is a write-like operation that failed, and the first read
// that returned its value without anything else having written it.
type failedWrite struct {
	f, key, value string
	call          int64
	complete      int
	read          int // invocation index of that read; -1 for none yet
	readComplete  int
}

// lintPending is a client's operation in flight. Its value's text is
// copied into a buffer the process reuses.
type lintPending struct {
	f, key string
	input  []byte
	call   int64
	invoke int
}

type fileLinter struct {
	pending  map[int]*lintPending
	timeouts []Warning
	failed   map[keyValue][]*failedWrite
	keys     map[string]bool  // the keys of failed writes: pass 2 looks at no other
	writers  map[keyValue]int // pass 2: operations that may have written a failed value
}

// stream reads path's events in order, at most limit of them (limit < 0:
// all), and gives each completion with its invocation to visit; an
// invocation nobody completed comes last with a nil completion. It returns
// how many events it read (-1 when the file could not be opened) and the
// reader's error, if any.
func (l *fileLinter) stream(path string, limit int, visit func(p *lintPending, index int, e *RawEvent)) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return -1, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	l.pending = map[int]*lintPending{}
	r := NewReader(f, path, Strict)
	var readErr error
	for limit < 0 || r.Events() < limit {
		e, err := r.NextRaw()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		if e.Process.Nemesis {
			continue
		}
		p := l.pending[e.Process.ID]
		if p == nil {
			p = &lintPending{invoke: -1}
			l.pending[e.Process.ID] = p
		}
		if e.Type == Invoke {
			p.f, p.key, p.call, p.invoke = e.F, e.Key, e.Time, r.Index()
			p.input = append(p.input[:0], e.Value...)
			continue
		}
		visit(p, r.Index(), &e)
		p.invoke = -1
	}
	for _, p := range l.pending {
		if p.invoke >= 0 {
			visit(p, -1, nil)
		}
	}
	return r.Events(), readErr
}

// first is pass 1: timeouts recorded as fails, and the failed writes.
func (l *fileLinter) first(p *lintPending, index int, e *RawEvent) {
	if e == nil || e.Type != Fail {
		return
	}
	if timeoutError.MatchString(e.Error) {
		l.timeouts = append(l.timeouts, Warning{Kind: LintTimeoutAsFail, Event: index, Message: fmt.Sprintf(
			"line %d: %s of %s by process %d failed with %q, which reads like a timeout: its outcome is unknown, so record it as info",
			index+1, p.f, p.key, e.Process.ID, e.Error)})
	}
	if v := rawWritten(p.f, p.input); v != "" {
		kv := keyValue{p.key, v}
		l.keys[p.key] = true
		l.failed[kv] = append(l.failed[kv], &failedWrite{f: p.f, key: p.key, value: v, call: p.call, complete: index, read: -1})
	}
}

// second is pass 2: the other writers of failed values, and their reads.
func (l *fileLinter) second(p *lintPending, index int, e *RawEvent) {
	if !l.keys[p.key] {
		return
	}
	if e != nil && e.Type == Ok && p.f == FRead {
		l.read(p, index, e)
		return
	}
	if e != nil && e.Type == Fail {
		return
	}
	if v := rawWritten(p.f, p.input); v != "" {
		if kv := (keyValue{p.key, v}); l.failed[kv] != nil {
			l.writers[kv]++
		}
	}
}

// read notes an ok read as the first to return a failed write's value
// when it is earlier in invocation order than the one noted, and returned
// after the write was invoked.
func (l *fileLinter) read(p *lintPending, index int, e *RawEvent) {
	for _, v := range rawReadValues(e.Value) {
		for _, w := range l.failed[keyValue{p.key, v}] {
			if w.call > e.Time || (w.read >= 0 && w.read < p.invoke) {
				continue
			}
			w.read, w.readComplete = p.invoke, index
		}
	}
}

// finishSecond drops the failed writes whose value someone else may have
// written: their reads prove nothing.
func (l *fileLinter) finishSecond() {
	for kv := range l.writers {
		delete(l.failed, kv)
	}
}

func (l *fileLinter) readWarnings() []Warning {
	var out []Warning
	for _, ws := range l.failed {
		for _, w := range ws {
			if w.read < 0 {
				continue
			}
			out = append(out, Warning{Kind: LintFailedWriteRead, Event: w.complete, Message: fmt.Sprintf(
				"line %d: %s of %s to %s failed definitely, yet the read at line %d returned it and nothing else wrote it: the fail was probably an unknown outcome (info)",
				w.complete+1, w.f, w.value, w.key, w.readComplete+1)})
		}
	}
	slices.SortFunc(out, func(a, b Warning) int { return a.Event - b.Event })
	return out
}

// rawWritten is written for an operation's invocation value as JSON text.
func rawWritten(f string, raw []byte) string {
	switch f {
	case FWrite, FAdd, FAppend:
		return RawValueKey(raw)
	case FCas:
		if pair, ok := RawList(raw); ok && len(pair) == 2 {
			return RawValueKey(pair[1])
		}
	}
	return ""
}

// rawReadValues is readValues for a read's result as JSON text.
func rawReadValues(raw []byte) []string {
	if list, ok := RawList(raw); ok {
		out := make([]string, len(list))
		for i, v := range list {
			out[i] = RawValueKey(v)
		}
		return out
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return []string{RawValueKey(raw)}
}
