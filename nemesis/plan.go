package nemesis

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Modes of kill and pause.
const (
	TargetOne      = "one"      // one random node
	TargetLeader   = "leader"   // the current leader
	TargetMinority = "minority" // a random minority of two or more nodes
)

// Membership operations.
const (
	MemberAdd          = "add"           // start a fresh node, add it as a voter
	MemberRemove       = "remove"        // remove a random voter, delete the node
	MemberRemoveLeader = "remove-leader" // remove the leader, delete the node
	MemberReplace      = "replace"       // remove a voter, add a fresh node under a new id
	MemberRejoin       = "rejoin"        // remove a voter, wipe it, add it back under the same id
)

// minVoters is the smallest configuration the nemesis leaves: three voters
// survive the loss of one.
const minVoters = 3

// planner is the seeded schedule: given what it knows of the cluster, it
// picks the next fault. For one seed and the same sequence of views it
// returns the same sequence of faults.
type planner struct {
	rng      *rand.Rand
	kinds    []Kind
	selected map[Kind][]string // kinds limited to some modes (Options.Modes)
	maxNodes int
	maxDrift float64
	nextID   int // numeric suffix of the next fresh node id
}

func newPlanner(opt Options, initial []string) *planner {
	return &planner{
		rng:      rand.New(rand.NewPCG(uint64(opt.Seed), 0x6e656d65736973)),
		kinds:    opt.Kinds,
		selected: opt.Modes,
		maxNodes: opt.MaxNodes,
		maxDrift: opt.MaxClockDrift,
		nextID:   nextNodeNumber(initial),
	}
}

// nextNodeNumber is one more than the largest n<k> among ids, so fresh
// nodes continue the initial numbering (n1..n5, then n6, n7...).
func nextNodeNumber(ids []string) int {
	next := len(ids) + 1
	for _, id := range ids {
		if k, err := strconv.Atoi(strings.TrimPrefix(id, "n")); err == nil && strings.HasPrefix(id, "n") && k >= next {
			next = k + 1
		}
	}
	return next
}

// freshID returns a node id never used in this campaign.
func (p *planner) freshID(v view) string {
	for {
		id := "n" + strconv.Itoa(p.nextID)
		p.nextID++
		if !slices.Contains(v.nodes, id) && !slices.Contains(v.voters, id) {
			return id
		}
	}
}

// next picks the next fault among the kinds applicable to v, or reports
// that none applies (e.g. only membership was asked for and the
// configuration cannot shrink or grow within [3, MaxNodes]).
func (p *planner) next(v view) (fault, bool) {
	var kinds []Kind
	for _, k := range p.kinds {
		if len(p.modes(k, v)) > 0 {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return fault{}, false
	}
	k := kinds[p.rng.IntN(len(kinds))]
	modes := p.modes(k, v)
	mode := modes[p.rng.IntN(len(modes))]
	switch k {
	case Partition:
		return p.partition(mode, v), true
	case Clock:
		return p.clock(mode, v), true
	case Membership:
		return p.membership(mode, v), true
	case Slow:
		return p.slow(mode, v), true
	}
	return fault{Kind: k, Mode: mode, Targets: p.targets(mode, v)}, true
}

// modes lists the variants of kind k the planner may play on v: those that
// make sense for v, limited to the selected ones when --nemesis named modes.
func (p *planner) modes(k Kind, v view) []string {
	all := p.allModes(k, v)
	chosen, limited := p.selected[k]
	if !limited {
		return all
	}
	return slices.DeleteFunc(all, func(m string) bool { return !slices.Contains(chosen, m) })
}

// asked reports whether --nemesis named mode of kind k explicitly.
func (p *planner) asked(k Kind, mode string) bool { return slices.Contains(p.selected[k], mode) }

// allModes lists the variants of kind k that make sense for v, in a fixed order.
func (p *planner) allModes(k Kind, v view) []string {
	n := len(v.nodes)
	var m []string
	switch k {
	case Partition:
		if n < 3 {
			return nil
		}
		m = []string{TopoIsolateNode, TopoHalves, TopoRandomHalves, TopoBridge, TopoOneWay}
		if n >= 4 {
			m = append(m, TopoMajoritiesRing)
		}
		if v.leader != "" {
			m = append(m, TopoIsolateLeader)
		}
		m = append(m, p.lagModes(v)...) // lag.go
	case Kill, Pause:
		if n == 0 {
			return nil
		}
		m = []string{TargetOne}
		if v.leader != "" {
			m = append(m, TargetLeader)
		}
		if (n-1)/2 >= 2 {
			m = append(m, TargetMinority)
		}
	case Clock:
		if n == 0 {
			return nil
		}
		m = []string{ClockBump, ClockStrobe}
		if slow, fast := RateBounds(p.maxDrift); slow < fast {
			m = append(m, ClockSkew)
			// The composite partitions too, so it is played only when
			// partitions were asked for, as a kind or as this mode.
			if v.leader != "" && n >= 3 && (slices.Contains(p.kinds, Partition) || p.asked(Clock, ClockSkewIsolateLeader)) {
				m = append(m, ClockSkewIsolateLeader)
			}
		}
	case Slow:
		m = p.slowModes(v)
	case Membership:
		voters := len(v.voters)
		if voters+1 <= p.maxNodes {
			m = append(m, MemberAdd)
		}
		if voters-1 >= minVoters {
			m = append(m, MemberRemove, MemberReplace, MemberRejoin)
			if v.leader != "" {
				m = append(m, MemberRemoveLeader)
			}
		}
		m = append(m, p.swapModes(v)...) // swap.go
	}
	return m
}

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

func (p *planner) clock(mode string, v view) fault {
	f := fault{Kind: Clock, Mode: mode, OffsetsMs: map[string]int64{}, Rates: map[string]float64{}}
	switch mode {
	case ClockSkewIsolateLeader:
		slow, fast := RateBounds(p.maxDrift)
		for _, id := range v.nodes {
			f.Rates[id], f.OffsetsMs[id] = fast, 0
		}
		f.Rates[v.leader] = slow
		f.Targets = slices.Clone(v.nodes)
		f.Groups = IsolateGroups(v.nodes, v.leader)
		f.Grudge = GroupsGrudge(f.Groups)
		return f
	case ClockSkew:
		// Every node is skewed: a random non-empty proper share runs at the
		// slowest allowed rate, the rest at the fastest, so the worst pair
		// sits exactly at the bound.
		slow, fast := RateBounds(p.maxDrift)
		order := p.shuffled(v.nodes)
		nSlow := 1 + p.rng.IntN(max(1, len(order)-1))
		for i, id := range order {
			f.Rates[id] = fast
			if i < nSlow {
				f.Rates[id] = slow
			}
			f.OffsetsMs[id] = 0
		}
		f.Targets = slices.Sorted(maps.Keys(f.Rates))
		return f
	case ClockStrobe:
		f.Flips = minStrobeFlips + p.rng.IntN(maxStrobeFlips-minStrobeFlips+1)
	}
	size := 1 + p.rng.IntN(len(v.nodes))
	f.Targets = p.shuffled(v.nodes)[:size]
	slices.Sort(f.Targets)
	for _, id := range f.Targets {
		f.OffsetsMs[id] = randomOffsetMs(p.rng)
		f.Rates[id] = 1
	}
	return f
}

func (p *planner) membership(mode string, v view) fault {
	f := fault{Kind: Membership, Mode: mode}
	switch mode {
	case MemberAdd:
		f.Add = p.freshID(v)
	case MemberRemoveLeader:
		f.Remove = v.leader
	case MemberRemove:
		f.Remove = p.pick(v.voters)
	case MemberReplace:
		f.Remove = p.pick(v.voters)
		f.Add = p.freshID(v)
	case MemberRejoin:
		f.Remove = p.pick(v.voters)
		f.Add = f.Remove
	case MemberSwap, MemberSwapPartition:
		return p.swap(mode, v)
	}
	return f
}

func (p *planner) pick(ids []string) string { return ids[p.rng.IntN(len(ids))] }

func (p *planner) shuffled(ids []string) []string {
	s := slices.Clone(ids)
	p.rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}
