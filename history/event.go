// Package history owns the operation model of a campaign and its on-disk form:
// the JSONL contract (one event per line, invoke then exactly one completion
// per process), a streaming writer that leaves a readable prefix on a crash,
// the one reader of history files (Reader: Strict for checking, Tolerant for
// a file still being written; it validates well-formedness, keeps bytes
// exactly and names the line of every error), pairing into operations, and
// the one rule that pairs a fault's end with its start (Faults). It knows
// nothing of Raft, Porcupine or the network, and does not touch the store.
package history

import (
	"fmt"
	"strconv"

	"github.com/faultline/faultline/sut/value"
)

// Type is an event's type.
type Type string

const (
	Invoke Type = "invoke"
	Ok     Type = "ok"
	Fail   Type = "fail"
	Info   Type = "info"
)

// Process identifies who produced an event: a client process number, or the
// nemesis. It encodes as a JSON integer or the string "nemesis".
type Process struct {
	ID      int
	Nemesis bool
}

// NemesisProcess is the process of every fault event.
var NemesisProcess = Process{Nemesis: true}

// Client returns the client process with that number.
func Client(id int) Process { return Process{ID: id} }

func (p Process) String() string {
	if p.Nemesis {
		return "nemesis"
	}
	return strconv.Itoa(p.ID)
}

// MarshalJSON implements json.Marshaler.
func (p Process) MarshalJSON() ([]byte, error) {
	if p.Nemesis {
		return []byte(`"nemesis"`), nil
	}
	return []byte(strconv.Itoa(p.ID)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *Process) UnmarshalJSON(b []byte) error {
	if string(b) == `"nemesis"` {
		*p = NemesisProcess
		return nil
	}
	id, err := strconv.Atoi(string(b))
	if err != nil || id < 0 {
		return fmt.Errorf("process must be a non-negative integer or \"nemesis\", got %s", b)
	}
	*p = Process{ID: id}
	return nil
}

// Event is one line of history.jsonl. Value holds JSON scalars as string or
// json.Number (never float64, so large integers survive), arrays as []any,
// and nemesis details as map[string]any.
type Event struct {
	Time    int64   `json:"time"` // ns since campaign start, one monotonic clock
	Process Process `json:"process"`
	Type    Type    `json:"type"`
	F       string  `json:"f"`
	Key     string  `json:"key,omitempty"`
	Value   any     `json:"value"`
	Node    string  `json:"node,omitempty"`    // the node that answered (completions)
	Error   string  `json:"error,omitempty"`   // why a fail or info
	Latency int64   `json:"latency,omitempty"` // ns, on completions
}

// Operation functions of the workloads.
const (
	FRead   = "read"
	FWrite  = "write"
	FCas    = "cas"
	FAdd    = "add"
	FAppend = "append"
)

// ValueKey is value.Key: the canonical form of a value, owned by sut/value
// because raftd's state machine compares values by the same rule.
func ValueKey(v any) string { return value.Key(v) }
