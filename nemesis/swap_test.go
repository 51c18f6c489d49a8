package nemesis

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// majority reports whether side holds a majority of voters.
func majority(side, voters []string) bool {
	n := 0
	for _, id := range voters {
		if slices.Contains(side, id) {
			n++
		}
	}
	return n > len(voters)/2
}

// TestSwapPartitionSplitsOldAndNewMajorities: the leader's side is a majority
// of C(new) and a minority of C(old); the other side, holding the removed
// voter, is a majority of C(old) whenever the number of voters is odd.
func TestSwapPartitionSplitsOldAndNewMajorities(t *testing.T) {
	for _, size := range []int{3, 4, 5, 7} {
		ids := []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7"}[:size]
		v := view{nodes: ids, voters: ids, leader: "n2"}
		p := newPlanner(Options{Kinds: []Kind{Membership, Partition}, MaxNodes: size, Seed: int64(size)}, ids)
		for range 20 {
			f := p.swap(MemberSwapPartition, v)
			newVoters := append(minus(v.voters, []string{f.Remove}), f.Add)
			side, rest := f.Groups[0], f.Groups[1]
			switch {
			case f.Remove == v.leader || !slices.Contains(v.voters, f.Remove):
				t.Fatalf("%d voters: removes %s (leader %s)", size, f.Remove, v.leader)
			case !slices.Contains(side, v.leader) || !slices.Contains(side, f.Add) || !slices.Contains(rest, f.Remove):
				t.Fatalf("%d voters: sides %v: want leader and %s on one side, %s on the other", size, f.Groups, f.Add, f.Remove)
			case !majority(side, newVoters) || majority(side, v.voters):
				t.Fatalf("%d voters: side %v should be a majority of C(new) %v and a minority of C(old)", size, side, newVoters)
			case size%2 == 1 && !majority(rest, v.voters):
				t.Fatalf("%d voters: other side %v is no majority of C(old)", size, rest)
			case !slices.Equal(f.Targets, []string{f.Add}):
				t.Fatalf("targets %v, want the fresh node (paused until the cut)", f.Targets)
			}
			if s := f.String(); !strings.Contains(s, "swap-partition "+f.Remove+" by "+f.Add+" + partition [") {
				t.Errorf("String() = %q", s)
			}
			if ev := f.eventValue(); ev["grudge"] == nil || ev["add"] != f.Add || ev["remove"] != f.Remove {
				t.Errorf("event value %v", ev)
			}
		}
	}
	membershipOnly := newPlanner(Options{Kinds: []Kind{Membership}, MaxNodes: 5}, five)
	if slices.Contains(membershipOnly.modes(Membership, fiveView()), MemberSwapPartition) {
		t.Error("swap-partition planned although partitions were not requested")
	}
	asked := newPlanner(Options{Kinds: []Kind{Membership}, Modes: map[Kind][]string{Membership: {MemberSwapPartition}}, MaxNodes: 5}, five)
	if got := asked.modes(Membership, fiveView()); !slices.Equal(got, []string{MemberSwapPartition}) {
		t.Errorf("membership:swap-partition plays %v", got)
	}
}

// TestSwapsOnARaftdCluster plays a swap and a swap-partition on real raftd
// processes: the swap leaves the fresh node a voter and the old one out of
// the configuration (still running until the heal deletes it); after the
// swap-partition (which joint consensus keeps from committing on the
// leader's side) the heal leaves a healthy configuration of three.
func TestSwapsOnARaftdCluster(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	n := New(tc.env, Options{Kinds: []Kind{Membership, Partition}, Interval: 500 * time.Millisecond, MaxNodes: 3})
	v := currentView(ctx, tc.env)
	for _, mode := range []string{MemberSwap, MemberSwapPartition} {
		f := n.plan.swap(mode, v)
		a, err := n.start(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if a.startErr != nil {
			t.Fatalf("%s: %v", f, a.startErr)
		}
		if mode == MemberSwap {
			// A swapped-out leader steps down once C(new) commits: wait
			// for its successor.
			_, st, err := leaderStatus(ctx, tc.env)
			for deadline := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
				_, st, err = leaderStatus(ctx, tc.env)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(st.Config.Voters, f.Add) || slices.Contains(st.Config.Voters, f.Remove) {
				t.Fatalf("after %s: voters %v", f, st.Config.Voters)
			}
		}
		n.holdAll(ctx, []*activeFault{a}, n.opt.Interval)
		n.opMu.Lock()
		err = n.endLocked(ctx, a, "")
		n.opMu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		requireHealthy(t, ctx, tc.env, 3)
		// A completed swap's removed node runs only until the heal. (After
		// swap-partition the heal rolls back to C(old): it stays a voter.)
		if mode == MemberSwap && slices.Contains(tc.env.Cluster.Nodes(), f.Remove) {
			t.Fatalf("after %s and its heal, %s still runs", f, f.Remove)
		}
		v = currentView(ctx, tc.env)
	}
	events := tc.readHistory(t)
	if kinds := requireAllEnded(t, events); kinds[string(Membership)] != 2 {
		t.Fatalf("intervals %v, want two membership faults", kinds)
	}
	for _, e := range events {
		if v, ok := e.Value.(map[string]any); ok && e.F == "membership-end" && v["error"] != nil {
			t.Errorf("%s: %v", e.F, v["error"])
		}
	}
}
