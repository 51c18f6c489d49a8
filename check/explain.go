package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/history"
)

// Helpers that word the explanations: times in seconds to 0.1 s, nodes by
// name, values as they appear in the history.

// at formats a campaign time as seconds since the start, to 0.1 s.
func at(ns int64) string { return fmt.Sprintf("%.1f s", float64(ns)/1e9) }

// span formats a duration: to 0.1 s, or in milliseconds when shorter, so a
// staleness of 40 ms does not read as "0.0 s".
func span(ns int64) string {
	if ns < int64(100*time.Millisecond) {
		return fmt.Sprintf("%d ms", (ns+int64(time.Millisecond)/2)/int64(time.Millisecond))
	}
	return at(ns)
}

// on names the node that answered, when the history says.
func on(node string) string {
	if node == "" {
		return ""
	}
	return " on " + node
}

// showValue renders a register value from its ValueKey.
func showValue(v string) string {
	if v == nullValue {
		return "nothing (absent)"
	}
	return v
}

// describeWrite names a value-changing register operation: "write 42" or "cas 41→42".
func describeWrite(op history.Op) string {
	if op.F == history.FCas {
		if pair, ok := history.List(op.Input); ok && len(pair) == 2 {
			return fmt.Sprintf("cas %s→%s", history.ValueKey(pair[0]), history.ValueKey(pair[1]))
		}
	}
	return fmt.Sprintf("%s %s", op.F, history.ValueKey(op.Input))
}

// opEvents lists an operation's event indexes (its completion if it has one).
func opEvents(op history.Op) []int {
	if op.Complete >= 0 {
		return []int{op.Invoke, op.Complete}
	}
	return []int{op.Invoke}
}

// eventsOf concatenates the events of operations, the offending one first.
func eventsOf(ops ...history.Op) []int {
	var out []int
	for _, op := range ops {
		out = append(out, opEvents(op)...)
	}
	return out
}

// others phrases "and 2 others" for lists of examples.
func others(n int, what string) string {
	switch n {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" and 1 other %s", what)
	}
	return fmt.Sprintf(" and %d other %ss", n, what)
}

func joinShown(elems []string, limit int) string {
	if len(elems) <= limit {
		return strings.Join(elems, ", ")
	}
	return strings.Join(elems[:limit], ", ") + fmt.Sprintf(", … (%d in all)", len(elems))
}
