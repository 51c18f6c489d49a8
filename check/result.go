// Package check decides whether a history is linearizable and explains why
// not. It owns the Porcupine models (register with cas, set, append), per-key
// parallel checking under a deadline, the anomaly classification (stale read,
// lost commit, phantom, duplicate) and results.json. It sees only histories:
// nothing of Raft, containers or the network.
package check

import (
	"encoding/json"
	"fmt"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// Verdict is true, false or "unknown" in results.json.
type Verdict int

const (
	Unknown Verdict = iota
	Valid
	Invalid
)

func (v Verdict) String() string {
	switch v {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	}
	return "unknown"
}

// ExitCode maps a verdict to the exit code of `checker run` and `checker check`.
func (v Verdict) ExitCode() int {
	switch v {
	case Valid:
		return 0
	case Invalid:
		return 1
	}
	return 2
}

// MarshalJSON writes true, false or "unknown".
func (v Verdict) MarshalJSON() ([]byte, error) {
	switch v {
	case Valid:
		return []byte("true"), nil
	case Invalid:
		return []byte("false"), nil
	}
	return []byte(`"unknown"`), nil
}

// UnmarshalJSON reads true, false or "unknown".
func (v *Verdict) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*v = Valid
	case "false":
		*v = Invalid
	case `"unknown"`:
		*v = Unknown
	default:
		return fmt.Errorf("valid must be true, false or \"unknown\", got %s", b)
	}
	return nil
}

// Anomaly kinds.
const (
	StaleRead       = "stale-read"
	LostCommit      = "lost-commit"
	Phantom         = "phantom"
	Duplicate       = "duplicate"
	NonLinearizable = "non-linearizable" // Porcupine said no, and no finer kind explains it
)

// Anomaly is one explained violation.
type Anomaly struct {
	Kind string `json:"kind"`
	Key  string `json:"key"`
	// Explanation is one plain-language sentence, e.g. "read of k7 at 12.4 s on
	// n3 returned 41; write 42 was acknowledged at 11.9 s, 0.5 s before the read began".
	Explanation string `json:"explanation"`
	// Events are indexes (0-based line numbers) into the history of the events
	// involved: the offending operation first.
	Events []int  `json:"events"`
	Time   int64  `json:"time"` // invoke time of the offending operation, ns
	Node   string `json:"node,omitempty"`
	// StaleBy is, for stale reads, how long before the read began the missed
	// write was acknowledged (ns).
	StaleBy int64 `json:"stale_by,omitempty"`
}

// KeyResult is the verdict for one key.
type KeyResult struct {
	Key     string  `json:"key"`
	Valid   Verdict `json:"valid"`
	Ops     int     `json:"ops"`
	Elapsed int64   `json:"elapsed_ns"`
}

// Stats summarises a history and the check.
type Stats struct {
	Ops       int            `json:"ops"`
	Ok        int            `json:"ok"`
	Fail      int            `json:"fail"`
	Info      int            `json:"info"`
	ByF       map[string]int `json:"by_f,omitempty"`
	Keys      int            `json:"keys"`
	KeysValid int            `json:"keys_valid"`
	KeysBad   int            `json:"keys_invalid"`
	KeysUnk   int            `json:"keys_unknown"`
	CheckNs   int64          `json:"check_ns"`
	// ClassifierDisagreements counts anomalies a classifier reported on a key
	// Porcupine found linearizable. They are dropped (the verdict is
	// Porcupine's); a non-zero count is a classifier bug worth reporting.
	ClassifierDisagreements int `json:"classifier_disagreements,omitempty"`
}

// Result is results.json.
type Result struct {
	Valid     Verdict        `json:"valid"`
	Workload  string         `json:"workload"`
	Anomalies []Anomaly      `json:"anomalies"`
	Counts    map[string]int `json:"anomaly_counts"`
	Keys      []KeyResult    `json:"keys"`
	Stats     Stats          `json:"stats"`
	// Reason says why the verdict is unknown (timeout, memory), when it is.
	Reason string `json:"reason,omitempty"`

	// verbose keeps the verbose re-check of each failing key, so that
	// WriteKeyViews need not run Porcupine again on a Result from Check.
	verbose map[string]*porcupine.LinearizationInfo
	// failing keeps the keys found not linearizable, and intervals the
	// faults, so that WriteKeyViews needs no second read of the history.
	failing   map[string]*keyHistory
	intervals []history.Interval
}

// Marshal returns results.json's bytes.
func (r *Result) Marshal() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
