package nemesis

import (
	"context"
	"fmt"
)

// Partition cuts peer links along one of the topologies of topology.go (and
// lag.go's two-step leader isolation).
const Partition Kind = "partition"

type partitionKind struct{}

func (partitionKind) name() Kind { return Partition }

// needs: only the runtime's partitions. The leader's topologies need a
// leader, which a system without status never shows, so they are simply not
// offered there.
func (partitionKind) needs() Needs { return Needs{Runtime: []RuntimeOp{OpPartition}} }

func (partitionKind) modes(p *planner, v view) []string {
	n := len(v.nodes)
	if n < 3 {
		return nil
	}
	m := []string{TopoIsolateNode, TopoHalves, TopoRandomHalves, TopoBridge, TopoOneWay}
	if n >= 4 {
		m = append(m, TopoMajoritiesRing)
	}
	if v.leader != "" {
		m = append(m, TopoIsolateLeader)
	}
	return append(m, p.lagModes(v)...) // lag.go
}

func (partitionKind) plan(p *planner, mode string, v view) fault { return p.partition(mode, v) }

func (p *planner) partition(mode string, v view) fault {
	f := fault{Kind: Partition, Mode: mode}
	nodes := v.nodes
	switch mode {
	case TopoIsolateNode:
		f.Groups = IsolateGroups(nodes, p.pick(nodes))
	case TopoIsolateLeader:
		f.Groups = IsolateGroups(nodes, v.leader)
	case TopoLagIsolateLeader:
		return p.lagIsolateLeader(v) // lag.go: its grudge is one-way
	case TopoHalves:
		f.Groups = HalvesGroups(nodes)
	case TopoRandomHalves:
		f.Groups = HalvesGroups(p.shuffled(nodes))
	case TopoMajoritiesRing:
		f.Grudge = MajoritiesRingGrudge(p.shuffled(nodes))
	case TopoBridge:
		f.Grudge = BridgeGrudge(p.shuffled(nodes))
	case TopoOneWay:
		victim := v.leader
		if victim == "" || p.rng.IntN(2) == 0 {
			victim = p.pick(nodes)
		}
		f.Grudge = OneWayGrudge(nodes, victim)
	}
	if f.Groups != nil {
		f.Grudge = GroupsGrudge(f.Groups)
	}
	return f
}

func (partitionKind) start(ctx context.Context, n *Nemesis, f fault) error {
	if f.Mode == TopoLagIsolateLeader {
		return n.applyLag(ctx, f) // lag.go
	}
	return n.cut(ctx, f.Grudge)
}

func (partitionKind) heal(ctx context.Context, n *Nemesis, f fault) error {
	if f.Mode == TopoLagIsolateLeader {
		return n.healSlow(ctx, f) // the partition, then the leader's hold-back
	}
	return n.uncut(ctx, f)
}

// value: {"kind": topology, "groups" (when it has sides), "grudge"}, plus
// the laggers, step and hold-back of lag-isolate-leader.
func (partitionKind) value(f fault) map[string]any {
	v := map[string]any{"kind": f.Mode, "grudge": f.Grudge}
	if f.Groups != nil {
		v["groups"] = f.Groups
	}
	if f.Mode == TopoLagIsolateLeader {
		v["laggers"], v["step_ms"] = f.Targets, stepMs(f.Step)
		v["delays"] = f.Delays
	}
	return v
}

func (partitionKind) describe(f fault) string {
	switch {
	case f.Mode == TopoLagIsolateLeader:
		return f.lagString()
	case f.Groups != nil:
		return fmt.Sprintf("partition %s %s", f.Mode, groupsString(f.Groups))
	}
	return fmt.Sprintf("partition %s %s", f.Mode, describeGrudge(f.Grudge))
}

// overlap: grudges of overlapping partitions add up (heal.go's cut).
func (partitionKind) overlap() Overlap { return OverlapSameKind }
