package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Recorder streams events to history.jsonl as a campaign runs. Every event is
// written and flushed as one line, so a crash leaves a readable prefix. It is
// safe for concurrent use, and its clock is the campaign's one monotonic clock.
// It counts what it records (Counts), so progress displays never re-read
// the file.
type Recorder struct {
	mu     sync.Mutex
	start  time.Time
	f      *os.File
	w      *bufio.Writer
	n      int
	counts Counts
	err    error
}

// Counts are the events a Recorder has written so far, by kind.
type Counts struct {
	Events int // every line, nemesis events included
	// Client invocations and completions.
	Invoke, Ok, Fail, Info int
	Nemesis                int // nemesis events
	// FirstInvoke is the time of the first client invocation, -1 until
	// there is one.
	FirstInvoke int64
}

func (c *Counts) add(e Event) {
	c.Events++
	if e.Process.Nemesis {
		c.Nemesis++
		return
	}
	switch e.Type {
	case Invoke:
		if c.Invoke == 0 {
			c.FirstInvoke = e.Time
		}
		c.Invoke++
	case Ok:
		c.Ok++
	case Fail:
		c.Fail++
	case Info:
		c.Info++
	}
}

// NewRecorder creates (truncating) the file at path and starts the clock.
func NewRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return &Recorder{start: time.Now(), f: f, w: bufio.NewWriter(f), counts: Counts{FirstInvoke: -1}}, nil
}

// Now is the time since the campaign started, in ns, on the monotonic clock.
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }

// Start is the wall-clock instant that Now measures from.
func (r *Recorder) Start() time.Time { return r.start }

// Record stamps e with the current time when e.Time is zero, appends it and
// returns the event as written (its index in the history is returned too).
func (r *Recorder) Record(e Event) (Event, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return e, -1, r.err
	}
	if e.Time == 0 {
		e.Time = r.Now()
	}
	if err := exactText(&e); err != nil {
		return e, -1, fmt.Errorf("history: event %d refused rather than changed: %w", r.n, err)
	}
	b, err := json.Marshal(e)
	if err == nil {
		b = append(b, '\n')
		_, err = r.w.Write(b)
	}
	if err == nil {
		err = r.w.Flush()
	}
	if err != nil {
		r.err = fmt.Errorf("history: writing event %d: %w", r.n, err)
		return e, -1, r.err
	}
	r.n++
	r.counts.add(e)
	return e, r.n - 1, nil
}

// Counts are the events recorded so far, by kind.
func (r *Recorder) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// Len is the number of events recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Close flushes, syncs and closes the file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return r.err
	}
	err := r.w.Flush()
	if serr := r.f.Sync(); err == nil {
		err = serr
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	return err
}

// exactText keeps the history exact: JSON carries only valid UTF-8, and
// encoding/json would silently write U+FFFD for any other byte (raftd and
// the reader follow the same rule). A function name, key, node or value
// with such bytes is refused; an error message, which describes rather than
// records, keeps every byte visibly, an invalid one written as \xNN.
func exactText(e *Event) error {
	for _, f := range []struct{ name, text string }{{"f", e.F}, {"key", e.Key}, {"node", e.Node}} {
		if !utf8.ValidString(f.text) {
			return fmt.Errorf("field %s %+q is not valid UTF-8", f.name, f.text)
		}
	}
	if err := valueText("value", e.Value); err != nil {
		return err
	}
	if !utf8.ValidString(e.Error) {
		var b strings.Builder
		for i := 0; i < len(e.Error); {
			r, size := utf8.DecodeRuneInString(e.Error[i:])
			if r == utf8.RuneError && size == 1 {
				fmt.Fprintf(&b, `\x%02x`, e.Error[i])
			} else {
				b.WriteString(e.Error[i : i+size])
			}
			i += size
		}
		e.Error = b.String()
	}
	return nil
}

// valueText reports the first string in v, a value of the shapes the
// workloads record, that is not valid UTF-8.
func valueText(path string, v any) error {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return fmt.Errorf("field %s: string %+q is not valid UTF-8", path, x)
		}
	case []string:
		for i, s := range x {
			if err := valueText(fmt.Sprintf("%s[%d]", path, i), s); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := valueText(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) {
				return fmt.Errorf("field %s: member name %+q is not valid UTF-8", path, k)
			}
			if err := valueText(fmt.Sprintf("%s[%q]", path, k), e); err != nil {
				return err
			}
		}
	}
	return nil
}
