package nemesis

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
)

// view is what the schedule knows about the cluster when it picks a fault.
type view struct {
	nodes  []string // running nodes, sorted
	voters []string // voters of the current configuration, sorted
	leader string   // "" when no leader is known
}

// fault is one planned fault: what to do and to whom. Only the fields its
// kind uses are set; a kind whose plan fits none of them keeps it in Params.
type fault struct {
	Kind Kind
	Mode string // partition topology, kill/pause target mode, clock mode or membership op

	Groups [][]string     // partition: the sides, when the topology has sides
	Grudge runtime.Grudge // partition

	Targets []string // kill, pause: nodes; clock: skewed nodes; slow: slowed nodes

	OffsetsMs map[string]int64   // clock: offset per target
	Rates     map[string]float64 // clock: rate per target
	Flips     int                // clock strobe: sign flips during the hold

	Step time.Duration // lag-isolate-leader: time between the laggers' cut (Targets) and the final one

	Delays map[string]client.Slow // slow: the delays of each target

	Remove string // membership: the voter removed
	Add    string // membership: the node added

	// Params is the plan of a kind whose details fit none of the fields
	// above, as the kind's own type (the kind's file owns it).
	Params any

	seq int // set when the fault starts: its number in this campaign
}

// eventValue is the value of the fault's start and end events.
func (f fault) eventValue() map[string]any { return kindOf(f.Kind).value(f) }

// String is the human description used for Current and logs.
func (f fault) String() string { return kindOf(f.Kind).describe(f) }

// groupsString shows partition sides as [n1 n2 | n3 n4 n5].
func groupsString(groups [][]string) string {
	sides := make([]string, len(groups))
	for i, g := range groups {
		sides[i] = strings.Join(g, " ")
	}
	return "[" + strings.Join(sides, " | ") + "]"
}

func describeGrudge(g runtime.Grudge) string {
	parts := make([]string, 0, len(g))
	for _, dst := range slices.Sorted(maps.Keys(g)) {
		parts = append(parts, fmt.Sprintf("%s drops %s", dst, strings.Join(g[dst], ",")))
	}
	return "{" + strings.Join(parts, "; ") + "}"
}
