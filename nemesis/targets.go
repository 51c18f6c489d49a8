package nemesis

import "slices"

// Modes of kill and pause: which nodes they hit.
const (
	TargetOne      = "one"      // one random node
	TargetLeader   = "leader"   // the current leader
	TargetMinority = "minority" // a random minority of two or more nodes
)

// targetModes lists the target modes that make sense for v.
func targetModes(v view) []string {
	n := len(v.nodes)
	if n == 0 {
		return nil
	}
	m := []string{TargetOne}
	if v.leader != "" {
		m = append(m, TargetLeader)
	}
	if (n-1)/2 >= 2 {
		m = append(m, TargetMinority)
	}
	return m
}

func (p *planner) targets(mode string, v view) []string {
	switch mode {
	case TargetLeader:
		return []string{v.leader}
	case TargetMinority:
		size := 2 + p.rng.IntN((len(v.nodes)-1)/2-1)
		t := p.shuffled(v.nodes)[:size]
		slices.Sort(t)
		return t
	}
	return []string{p.pick(v.nodes)}
}

// targetsValue is the event value of a fault that hits whole nodes:
// {"mode", "nodes"}.
func targetsValue(f fault) map[string]any {
	return map[string]any{"mode": f.Mode, "nodes": f.Targets}
}
