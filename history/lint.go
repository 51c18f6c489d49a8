package history

import (
	"fmt"
	"regexp"
	"slices"
)

// Lint kinds: places where a recorded history is probably wrong rather than
// the system it recorded.
const (
	// LintTimeoutAsFail is a fail completion whose error reads like a
	// timeout: a timed-out operation may still take effect, so it should
	// have been recorded as info. As a fail it makes the checker assume the
	// operation never happened, and a read of its value looks like a phantom.
	LintTimeoutAsFail = "fail-looks-like-timeout"
	// LintFailedWriteRead is a write, cas, add or append that failed
	// definitely, yet a later read returned its value and no other
	// operation could have written it: the fail was most likely an unknown
	// outcome.
	LintFailedWriteRead = "failed-write-read"
)

// LintReport is lint.json in a run directory: the warnings of its history.
type LintReport struct {
	Warnings []Warning `json:"warnings"`
}

// Warning is one lint finding. Event indexes the completion it is about
// (line Event+1 of history.jsonl).
type Warning struct {
	Kind    string `json:"kind"`
	Event   int    `json:"event"`
	Message string `json:"message"`
}

// timeoutError matches the errors clients and libraries give when they
// stopped waiting rather than heard a refusal.
var timeoutError = regexp.MustCompile(`(?i)time[d ]?[- ]?out|deadline exceeded|\b504\b|context canceled|connection reset|\bEOF\b`)

// Lint returns the warnings of a well-formed history, in event order. It
// does not judge the system: a history with warnings may still be checked,
// and the warnings say which verdicts to doubt.
func Lint(events []Event) ([]Warning, error) {
	ops, err := Pair(events)
	if err != nil {
		return nil, err
	}
	var out []Warning
	for _, op := range ops {
		if op.Type != Fail || !op.Completed() {
			continue
		}
		if msg := events[op.Complete].Error; timeoutError.MatchString(msg) {
			out = append(out, Warning{Kind: LintTimeoutAsFail, Event: op.Complete, Message: fmt.Sprintf(
				"line %d: %s of %s by process %d failed with %q, which reads like a timeout: its outcome is unknown, so record it as info",
				op.Complete+1, op.F, op.Key, op.Process, msg)})
		}
	}
	out = append(out, failedWritesRead(ops)...)
	slices.SortStableFunc(out, func(a, b Warning) int { return a.Event - b.Event })
	return out, nil
}

// written is the value an operation would write, "" for reads.
func written(op Op) string {
	switch op.F {
	case FWrite, FAdd, FAppend:
		return ValueKey(op.Input)
	case FCas:
		if pair, ok := List(op.Input); ok && len(pair) == 2 {
			return ValueKey(pair[1])
		}
	}
	return ""
}

// readValues are the values an ok read returned: the register's value, or
// each element of a set or list.
func readValues(op Op) []string {
	if list, ok := List(op.Output); ok {
		out := make([]string, len(list))
		for i, v := range list {
			out[i] = ValueKey(v)
		}
		return out
	}
	if op.Output == nil {
		return nil
	}
	return []string{ValueKey(op.Output)}
}

func failedWritesRead(ops []Op) []Warning {
	type keyValue struct{ key, value string }
	writers := map[keyValue]int{} // operations that may have written the value
	failed := map[keyValue][]Op{}
	for _, op := range ops {
		v := written(op)
		if v == "" {
			continue
		}
		kv := keyValue{op.Key, v}
		if op.Type == Fail {
			failed[kv] = append(failed[kv], op)
		} else {
			writers[kv]++
		}
	}
	var out []Warning
	warned := map[int]bool{}
	for _, op := range ops {
		if op.F != FRead || op.Type != Ok {
			continue
		}
		for _, v := range readValues(op) {
			kv := keyValue{op.Key, v}
			if writers[kv] > 0 {
				continue
			}
			for _, w := range failed[kv] {
				if warned[w.Complete] || w.Call > op.Return {
					continue
				}
				warned[w.Complete] = true
				out = append(out, Warning{Kind: LintFailedWriteRead, Event: w.Complete, Message: fmt.Sprintf(
					"line %d: %s of %s to %s failed definitely, yet the read at line %d returned it and nothing else wrote it: the fail was probably an unknown outcome (info)",
					w.Complete+1, w.F, v, w.Key, op.Complete+1)})
			}
		}
	}
	return out
}
