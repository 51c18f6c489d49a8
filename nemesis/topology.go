package nemesis

import (
	"slices"

	"github.com/faultline/faultline/sut/runtime"
)

// Partition topologies, the "kind" of a partition-start event.
const (
	TopoIsolateNode    = "isolate-node"
	TopoIsolateLeader  = "isolate-leader"
	TopoHalves         = "halves"
	TopoRandomHalves   = "random-halves"
	TopoMajoritiesRing = "majorities-ring"
	TopoBridge         = "bridge"
	TopoOneWay         = "one-way"
)

// The functions below are pure: they take the nodes in the order to use
// (the schedule shuffles them first where the topology is random) and
// return the grudge. A grudge lists, for each node that drops anything, the
// sources it drops, sorted; nodes that drop nothing are absent.

// GroupsGrudge cuts the cluster into disjoint groups: every node drops the
// traffic of every node outside its own group, in both directions.
func GroupsGrudge(groups [][]string) runtime.Grudge {
	groupOf := map[string]int{}
	var all []string
	for i, g := range groups {
		for _, n := range g {
			groupOf[n] = i
			all = append(all, n)
		}
	}
	return visibilityGrudge(all, func(dst, src string) bool { return groupOf[dst] == groupOf[src] })
}

// IsolateGroups puts victim alone on one side and every other node on the
// other.
func IsolateGroups(nodes []string, victim string) [][]string {
	rest := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if n != victim {
			rest = append(rest, n)
		}
	}
	return [][]string{{victim}, rest}
}

// HalvesGroups splits nodes into a minority (the first ⌊n/2⌋) and a majority
// (the rest).
func HalvesGroups(nodes []string) [][]string {
	half := len(nodes) / 2
	return [][]string{slices.Clone(nodes[:half]), slices.Clone(nodes[half:])}
}

// MajoritiesRingGrudge arranges nodes on a ring in the given order; each node
// keeps its links to the nodes within distance k on either side, k the
// smallest number such that a node sees a majority (itself included). Every
// node therefore sees a majority, and no two nodes see the same one: a
// classic way to let several nodes each believe they can win an election.
// It is a real partition only for 4 nodes or more (with 3, every node sees
// everything).
func MajoritiesRingGrudge(nodes []string) runtime.Grudge {
	n := len(nodes)
	majority := n/2 + 1
	k := majority / 2 // ⌈(majority-1)/2⌉
	pos := map[string]int{}
	for i, id := range nodes {
		pos[id] = i
	}
	return visibilityGrudge(nodes, func(dst, src string) bool {
		d := pos[dst] - pos[src]
		if d < 0 {
			d = -d
		}
		return min(d, n-d) <= k
	})
}

// BridgeGrudge splits nodes into two sides joined by one bridge node: the
// node in the middle of the order sees everyone, the nodes before it see
// only each other and the bridge, and likewise the nodes after it. With an
// odd count both sides plus the bridge are majorities that overlap only in
// the bridge.
func BridgeGrudge(nodes []string) runtime.Grudge {
	mid := (len(nodes) - 1) / 2
	side := func(id string) int {
		i := slices.Index(nodes, id)
		switch {
		case i < mid:
			return -1
		case i > mid:
			return 1
		}
		return 0
	}
	return visibilityGrudge(nodes, func(dst, src string) bool {
		a, b := side(dst), side(src)
		return a == 0 || b == 0 || a == b
	})
}

// BridgeNode is the node BridgeGrudge uses as the bridge.
func BridgeNode(nodes []string) string { return nodes[(len(nodes)-1)/2] }

// OneWayGrudge is an asymmetric partition: victim drops everything the other
// nodes send it, while what it sends still arrives. A leader in this state
// keeps followers quiet with heartbeats it never hears answered.
func OneWayGrudge(nodes []string, victim string) runtime.Grudge {
	return visibilityGrudge(nodes, func(dst, src string) bool { return dst != victim || src == victim })
}

// visibilityGrudge builds the grudge of a "dst hears src" relation.
func visibilityGrudge(nodes []string, hears func(dst, src string) bool) runtime.Grudge {
	g := runtime.Grudge{}
	for _, dst := range nodes {
		var drops []string
		for _, src := range nodes {
			if src != dst && !hears(dst, src) {
				drops = append(drops, src)
			}
		}
		if len(drops) > 0 {
			slices.Sort(drops)
			g[dst] = drops
		}
	}
	return g
}

// Hears reports whether, under g, dst receives what src sends.
func Hears(g runtime.Grudge, dst, src string) bool {
	return dst == src || !slices.Contains(g[dst], src)
}
