package nemesis

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/faultline/faultline/sut/runtime"
)

func fiveView() view {
	return view{nodes: five, voters: five, leader: "n2"}
}

func newTestPlanner(seed int64, kinds []Kind) *planner {
	return newPlanner(Options{Kinds: kinds, Seed: seed, MaxNodes: 5, MaxClockDrift: 0.1}, five)
}

// schedule plans n faults, applying membership changes to the view as the
// nemesis would, so later picks see the changed cluster.
func schedule(p *planner, n int) []fault {
	v := fiveView()
	var out []fault
	for range n {
		f, ok := p.next(v)
		if !ok {
			break
		}
		out = append(out, f)
		if f.Kind == Membership {
			if f.Remove != "" {
				v.nodes = minus(v.nodes, []string{f.Remove})
				if v.leader == f.Remove {
					v.leader = v.nodes[0]
				}
			}
			if f.Add != "" {
				v.nodes = append(v.nodes, f.Add)
				slices.Sort(v.nodes)
			}
			v.voters = v.nodes
		}
	}
	return out
}

func TestScheduleIsDeterministicPerSeed(t *testing.T) {
	a := schedule(newTestPlanner(11, AllKinds), 400)
	b := schedule(newTestPlanner(11, AllKinds), 400)
	if len(a) != 400 || !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed planned different schedules")
	}
	c := schedule(newTestPlanner(12, AllKinds), 400)
	if reflect.DeepEqual(a, c) {
		t.Fatal("seeds 11 and 12 planned the same schedule")
	}
	// Every kind and every partition topology shows up in a long schedule.
	kinds := map[Kind]bool{}
	modes := map[string]bool{}
	for _, f := range a {
		kinds[f.Kind] = true
		modes[f.Mode] = true
	}
	for _, k := range AllKinds {
		if !kinds[k] {
			t.Errorf("no %s fault in 400", k)
		}
	}
	for _, m := range []string{TopoIsolateNode, TopoIsolateLeader, TopoHalves, TopoRandomHalves,
		TopoMajoritiesRing, TopoBridge, TopoOneWay, ClockBump, ClockStrobe, ClockSkew,
		TargetOne, TargetLeader, TargetMinority} {
		if !modes[m] {
			t.Errorf("mode %s never planned in 400 faults", m)
		}
	}
}

func TestScheduleUsesOnlyRequestedKinds(t *testing.T) {
	for _, f := range schedule(newTestPlanner(3, []Kind{Kill, Pause}), 100) {
		if f.Kind != Kill && f.Kind != Pause {
			t.Fatalf("planned %s with only kill,pause asked for", f.Kind)
		}
	}
}

func TestMembershipKeepsVotersWithinBounds(t *testing.T) {
	p := newTestPlanner(5, []Kind{Membership})
	v := fiveView()
	ids := map[string]bool{}
	for _, id := range five {
		ids[id] = true
	}
	for i := range 300 {
		f, ok := p.next(v)
		if !ok {
			t.Fatalf("step %d: no membership change possible with %d voters of max 5", i, len(v.voters))
		}
		if f.Remove != "" {
			if !slices.Contains(v.voters, f.Remove) {
				t.Fatalf("removes %s, not a voter of %v", f.Remove, v.voters)
			}
			v.voters = minus(v.voters, []string{f.Remove})
		}
		// A swap is one change: it never passes through fewer voters.
		swap := f.Mode == MemberSwap || f.Mode == MemberSwapPartition
		if len(v.voters) < minVoters && !swap {
			t.Fatalf("step %d: %s leaves %d voters", i, f, len(v.voters))
		}
		if f.Add != "" {
			if f.Mode != MemberRejoin && ids[f.Add] {
				t.Fatalf("fresh id %s was used before", f.Add)
			}
			ids[f.Add] = true
			v.voters = append(v.voters, f.Add)
			slices.Sort(v.voters)
		}
		if len(v.voters) > 5 {
			t.Fatalf("step %d: %s makes %d voters, max 5", i, f, len(v.voters))
		}
		if f.Mode == MemberRemoveLeader && f.Remove != v.leader {
			t.Fatalf("remove-leader removed %s, leader is %s", f.Remove, v.leader)
		}
		v.nodes = v.voters
		if !slices.Contains(v.voters, v.leader) {
			v.leader = v.voters[0]
		}
	}
}

func TestMembershipChoicesAtTheBounds(t *testing.T) {
	p := newTestPlanner(1, []Kind{Membership})
	full := p.modes(Membership, fiveView())
	if slices.Contains(full, MemberAdd) || !slices.Contains(full, MemberRemove) {
		t.Errorf("at max voters: modes %v, want removals and no add", full)
	}
	three := view{nodes: five[:3], voters: five[:3], leader: "n1"}
	if got := p.modes(Membership, three); !reflect.DeepEqual(got, []string{MemberAdd, MemberSwap}) {
		t.Errorf("at 3 voters: modes %v, want add and swap", got)
	}
	small := newPlanner(Options{Kinds: []Kind{Membership}, MaxNodes: 3}, five[:3])
	if f, ok := small.next(three); !ok || f.Mode != MemberSwap {
		t.Errorf("with --nodes 3 only a swap keeps voters within [3, 3]; planned %v", f)
	}
}

func TestFreshIDsContinueTheNumbering(t *testing.T) {
	p := newTestPlanner(1, []Kind{Membership})
	v := fiveView()
	if a, b := p.freshID(v), p.freshID(v); a != "n6" || b != "n7" {
		t.Fatalf("fresh ids %s, %s; want n6, n7", a, b)
	}
	if got := nextNodeNumber([]string{"n1", "n9", "x"}); got != 10 {
		t.Fatalf("nextNodeNumber = %d, want 10", got)
	}
	if got := nextNodeNumber([]string{"a", "b", "c"}); got != 4 {
		t.Fatalf("nextNodeNumber of non-numbered ids = %d, want 4", got)
	}
}

func TestClockFaultsStayInBounds(t *testing.T) {
	p := newTestPlanner(21, []Kind{Clock})
	slow, fast := RateBounds(0.1)
	for range 300 {
		f, _ := p.next(fiveView())
		if len(f.Targets) == 0 {
			t.Fatalf("clock fault %s has no targets", f)
		}
		for _, id := range f.Targets {
			rate, off := f.Rates[id], f.OffsetsMs[id]
			if rate < slow-1e-12 || rate > fast+1e-12 {
				t.Fatalf("%s: rate %g outside [%g, %g]", f, rate, slow, fast)
			}
			switch f.Mode {
			case ClockSkew:
				if off != 0 {
					t.Fatalf("%s: skew also shifts offsets", f)
				}
			default:
				if a := max(off, -off); a < minOffsetMs || a > maxOffsetMs {
					t.Fatalf("%s: offset %d outside ±[%d, %d]", f, off, minOffsetMs, maxOffsetMs)
				}
			}
		}
		if f.Mode == ClockSkew {
			hasSlow, hasFast := false, false
			for _, r := range f.Rates {
				hasSlow = hasSlow || r < 1
				hasFast = hasFast || r > 1
			}
			if !hasSlow || !hasFast || len(f.Targets) != len(five) {
				t.Fatalf("skew %s: want every node skewed, some slow and some fast", f)
			}
		}
		if f.Mode == ClockStrobe && (f.Flips < minStrobeFlips || f.Flips > maxStrobeFlips) {
			t.Fatalf("strobe with %d flips", f.Flips)
		}
	}
	noDrift := newPlanner(Options{Kinds: []Kind{Clock}, MaxNodes: 5}, five)
	if slices.Contains(noDrift.modes(Clock, fiveView()), ClockSkew) {
		t.Error("rate skew planned with --max-clock-drift 0")
	}
}

func TestKillAndPauseTargets(t *testing.T) {
	p := newTestPlanner(8, []Kind{Kill})
	for range 200 {
		f, _ := p.next(fiveView())
		switch f.Mode {
		case TargetLeader:
			if !reflect.DeepEqual(f.Targets, []string{"n2"}) {
				t.Fatalf("leader kill hit %v", f.Targets)
			}
		case TargetMinority:
			if len(f.Targets) != 2 || !slices.IsSorted(f.Targets) {
				t.Fatalf("minority of 5 = %v, want 2 sorted nodes", f.Targets)
			}
		case TargetOne:
			if len(f.Targets) != 1 {
				t.Fatalf("one = %v", f.Targets)
			}
		}
	}
	noLeader := view{nodes: five, voters: five}
	if slices.Contains(p.modes(Kill, noLeader), TargetLeader) || slices.Contains(p.modes(Partition, noLeader), TopoIsolateLeader) {
		t.Error("leader targets planned with no leader known")
	}
	three := view{nodes: five[:3], voters: five[:3]}
	if slices.Contains(p.modes(Pause, three), TargetMinority) || slices.Contains(p.modes(Partition, three), TopoMajoritiesRing) {
		t.Error("minority or majorities ring planned on 3 nodes, where they degenerate")
	}
}

func TestEventValuesFollowTheHistoryContract(t *testing.T) {
	f := fault{Kind: Partition, Mode: TopoHalves, Groups: [][]string{{"n1"}, {"n2", "n3"}}}
	f.Grudge = GroupsGrudge(f.Groups)
	b, err := json.Marshal(f.eventValue())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"groups":[["n1"],["n2","n3"]],"grudge":{"n1":["n2","n3"],"n2":["n1"],"n3":["n1"]},"kind":"halves"}`
	if string(b) != want {
		t.Fatalf("partition value %s, want %s", b, want)
	}
	cases := map[string]fault{
		`{"mode":"one","nodes":["n4"]}`:                          {Kind: Kill, Mode: TargetOne, Targets: []string{"n4"}},
		`{"node":"n6","op":"add"}`:                               {Kind: Membership, Mode: MemberAdd, Add: "n6"},
		`{"add":"n7","op":"replace","remove":"n2"}`:              {Kind: Membership, Mode: MemberReplace, Remove: "n2", Add: "n7"},
		`{"node":"n3","op":"rejoin"}`:                            {Kind: Membership, Mode: MemberRejoin, Remove: "n3", Add: "n3"},
		`{"mode":"bump","offsets":{"n1":-300},"rates":{"n1":1}}`: {Kind: Clock, Mode: ClockBump, Targets: []string{"n1"}, OffsetsMs: map[string]int64{"n1": -300}, Rates: map[string]float64{"n1": 1}},
	}
	for want, f := range cases {
		b, err := json.Marshal(f.eventValue())
		if err != nil || string(b) != want {
			t.Errorf("%s value %s (%v), want %s", f, b, err, want)
		}
	}
	one := fault{Kind: Partition, Mode: TopoOneWay, Grudge: runtime.Grudge{"n1": {"n2"}}}
	if _, hasGroups := one.eventValue()["groups"]; hasGroups {
		t.Error("a one-way partition has no sides but its value lists groups")
	}
	if s := one.String(); s != "partition one-way {n1 drops n2}" {
		t.Errorf("String() = %q", s)
	}
}

// TestSkewIsolateLeaderSlowsTheLeaderAndCutsItOff: the composite clock fault
// runs the leader at the slowest allowed rate and everyone else at the
// fastest, and isolates the leader; it is planned only when partitions were
// asked for too.
func TestSkewIsolateLeaderSlowsTheLeaderAndCutsItOff(t *testing.T) {
	slow, fast := RateBounds(0.5)
	p := newPlanner(Options{Kinds: []Kind{Clock, Partition}, MaxNodes: 5, MaxClockDrift: 0.5, Seed: 3}, five)
	v := fiveView()
	if !slices.Contains(p.modes(Clock, v), ClockSkewIsolateLeader) {
		t.Fatalf("clock modes %v lack %s with partitions requested", p.modes(Clock, v), ClockSkewIsolateLeader)
	}
	f := p.clock(ClockSkewIsolateLeader, v)
	for _, id := range v.nodes {
		want := fast
		if id == v.leader {
			want = slow
		}
		if f.Rates[id] != want || f.OffsetsMs[id] != 0 {
			t.Errorf("%s: rate %g offset %d, want rate %g offset 0", id, f.Rates[id], f.OffsetsMs[id], want)
		}
	}
	if !reflect.DeepEqual(f.Grudge, GroupsGrudge(IsolateGroups(v.nodes, v.leader))) {
		t.Errorf("grudge %v does not isolate the leader %s", f.Grudge, v.leader)
	}
	if ev := f.eventValue(); ev["grudge"] == nil || ev["rates"] == nil {
		t.Errorf("event value %v lacks the rates or the grudge", ev)
	}
	clockOnly := newPlanner(Options{Kinds: []Kind{Clock}, MaxNodes: 5, MaxClockDrift: 0.5}, five)
	if slices.Contains(clockOnly.modes(Clock, v), ClockSkewIsolateLeader) {
		t.Error("skew-isolate-leader planned although partitions were not requested")
	}
}
