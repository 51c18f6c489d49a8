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

// fault is one planned fault: what to do and to whom. Only the fields of its
// kind are set.
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
}

// eventValue is the value of the fault's start and end events.
func (f fault) eventValue() map[string]any {
	v := map[string]any{}
	switch f.Kind {
	case Partition:
		v["kind"] = f.Mode
		if f.Groups != nil {
			v["groups"] = f.Groups
		}
		v["grudge"] = f.Grudge
		if f.Mode == TopoLagIsolateLeader {
			v["laggers"], v["step_ms"] = f.Targets, float64(f.Step)/float64(time.Millisecond)
			v["delays"] = f.Delays
		}
	case Kill, Pause:
		v["mode"] = f.Mode
		v["nodes"] = f.Targets
	case Clock:
		v["mode"] = f.Mode
		v["offsets"] = f.OffsetsMs
		v["rates"] = f.Rates
		if f.Flips > 0 {
			v["flips"] = f.Flips
		}
		if f.Grudge != nil {
			v["groups"] = f.Groups
			v["grudge"] = f.Grudge
		}
	case Slow:
		return f.slowEventValue()
	case Membership:
		v["op"] = f.Mode
		switch f.Mode {
		case MemberReplace, MemberSwap, MemberSwapPartition:
			v["remove"], v["add"] = f.Remove, f.Add
			if f.Grudge != nil {
				v["groups"], v["grudge"] = f.Groups, f.Grudge
			}
		case MemberAdd:
			v["node"] = f.Add
		default:
			v["node"] = f.Remove
		}
	}
	return v
}

// String is the human description used for Current and logs.
func (f fault) String() string {
	switch f.Kind {
	case Partition:
		if f.Mode == TopoLagIsolateLeader {
			return f.lagString()
		}
		if f.Groups != nil {
			return fmt.Sprintf("partition %s %s", f.Mode, groupsString(f.Groups))
		}
		return fmt.Sprintf("partition %s %s", f.Mode, describeGrudge(f.Grudge))
	case Kill, Pause:
		return fmt.Sprintf("%s %s %s", f.Kind, f.Mode, strings.Join(f.Targets, " "))
	case Clock:
		parts := make([]string, 0, len(f.Targets))
		for _, t := range f.Targets {
			parts = append(parts, fmt.Sprintf("%s %+dms x%.4f", t, f.OffsetsMs[t], f.Rates[t]))
		}
		desc := fmt.Sprintf("clock %s %s", f.Mode, strings.Join(parts, ", "))
		if f.Groups != nil {
			desc += " + partition " + groupsString(f.Groups)
		}
		return desc
	case Slow:
		return f.slowString()
	case Membership:
		switch f.Mode {
		case MemberReplace, MemberSwap:
			return fmt.Sprintf("membership %s %s by %s", f.Mode, f.Remove, f.Add)
		case MemberSwapPartition:
			return fmt.Sprintf("membership %s %s by %s + partition %s", f.Mode, f.Remove, f.Add, groupsString(f.Groups))
		case MemberAdd:
			return "membership add " + f.Add
		}
		return fmt.Sprintf("membership %s %s", f.Mode, f.Remove)
	}
	return string(f.Kind)
}

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
