package nemesis

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/client"
)

// TestLagIsolateLeaderPlansLaggersAndAOneWayCut: the laggers are a
// non-empty minority of the followers (the others must still form a
// majority with the leader, so that it commits what only they received),
// the step lies in its range, and the final cut makes every follower drop
// the leader while the leader still hears them.
func TestLagIsolateLeaderPlansLaggersAndAOneWayCut(t *testing.T) {
	for _, size := range []int{3, 4, 5, 7} {
		ids := []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7"}[:size]
		v := view{nodes: ids, voters: ids, leader: "n2"}
		p := newPlanner(Options{Kinds: []Kind{Partition}, MaxNodes: size, Seed: int64(size)}, ids)
		if !slices.Contains(p.modes(Partition, v), TopoLagIsolateLeader) {
			t.Fatalf("%d nodes: partition modes %v lack %s", size, p.modes(Partition, v), TopoLagIsolateLeader)
		}
		followers := minus(ids, []string{v.leader})
		for range 20 {
			f := p.partition(TopoLagIsolateLeader, v)
			keepUp := minus(followers, f.Targets)
			switch {
			case len(f.Targets) == 0 || slices.Contains(f.Targets, v.leader):
				t.Fatalf("%d nodes: laggers %v", size, f.Targets)
			case !majority(append(keepUp, v.leader), ids):
				t.Fatalf("%d nodes: leader and %v are no majority: the leader could not commit what the laggers miss", size, keepUp)
			case f.Step < minLagStep || f.Step > maxLagStep:
				t.Fatalf("step %s outside [%s, %s]", f.Step, minLagStep, maxLagStep)
			case !reflect.DeepEqual(f.Grudge, dropFromGrudge(followers, v.leader)):
				t.Fatalf("final grudge %v: want every follower to drop %s only", f.Grudge, v.leader)
			case len(f.Delays) != 1 || f.Delays[v.leader].NetMs < minLagHoldMs || f.Delays[v.leader].NetMs > maxLagHoldMs ||
				f.Delays[v.leader].ApplyMs != 0 || f.Delays[v.leader].FsyncMs != 0:
				t.Fatalf("delays %v: want only the leader's messages held back %d-%dms", f.Delays, minLagHoldMs, maxLagHoldMs)
			}
			if Hears(f.Grudge, followers[0], v.leader) || !Hears(f.Grudge, v.leader, followers[0]) {
				t.Fatalf("grudge %v is not a one-way cut of the leader", f.Grudge)
			}
			ev := f.eventValue()
			if ev["kind"] != TopoLagIsolateLeader || !slices.Equal(ev["laggers"].([]string), f.Targets) || ev["step_ms"] == nil {
				t.Errorf("event value %v", ev)
			}
			if s := f.String(); !strings.HasPrefix(s, "partition lag-isolate-leader [n2 | ") || !strings.Contains(s, "ms earlier") {
				t.Errorf("String() = %q", s)
			}
		}
	}
	if got := newTestPlanner(1, []Kind{Partition}).modes(Partition, view{nodes: five, voters: five}); slices.Contains(got, TopoLagIsolateLeader) {
		t.Errorf("planned with no known leader: %v", got)
	}
}

// TestLagIsolateLeaderIsHealedOnARaftdCluster plays the fault on real raftd
// processes: it is recorded as a partition interval, and once healed the
// cluster recovers.
func TestLagIsolateLeaderIsHealedOnARaftdCluster(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	n := New(tc.env, Options{Kinds: []Kind{Partition}, Modes: map[Kind][]string{Partition: {TopoLagIsolateLeader}},
		Interval: 300 * time.Millisecond, Seed: 7, MaxNodes: 3})
	if err := WaitRecovery(ctx, tc.env, recoveryBound); err != nil {
		t.Fatal(err)
	}
	leader := currentView(ctx, tc.env).leader
	if err := n.step(ctx); err != nil {
		t.Fatal(err)
	}
	// The fault's own end lifts the leader's hold-back, not only HealAll.
	if got := slowOf(t, tc.env, leader); got != (client.Slow{}) {
		t.Errorf("old leader %s after the fault's end: delays %+v, want none", leader, got)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	requireHealthy(t, ctx, tc.env, 3)
	events := tc.readHistory(t)
	if kinds := requireAllEnded(t, events); kinds[string(Partition)] != 1 {
		t.Fatalf("partition intervals %v, want one", kinds)
	}
	for _, e := range events {
		if e.F == "partition-start" {
			v, _ := e.Value.(map[string]any)
			if v["kind"] != TopoLagIsolateLeader || v["laggers"] == nil {
				t.Errorf("partition-start value %v", e.Value)
			}
			return
		}
	}
	t.Errorf("no partition-start among %d events", len(events))
}
