package nemesis

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/client"
)

// The plain slow modes slow a random non-empty set of nodes, each with one
// delay within its mode's range.
func TestSlowFaultsStayInBounds(t *testing.T) {
	p := newTestPlanner(5, []Kind{Slow})
	v := fiveView()
	for _, mode := range []string{SlowDisk, SlowApply, SlowNet} {
		for range 50 {
			f := p.slow(mode, v)
			if len(f.Targets) == 0 || !slices.IsSorted(f.Targets) {
				t.Fatalf("%s targets %v: want a sorted non-empty set", mode, f.Targets)
			}
			if f.Grudge != nil {
				t.Fatalf("%s partitions: %v", mode, f.Grudge)
			}
			for _, id := range f.Targets {
				d := f.Delays[id]
				var ms, lo, hi int64
				switch mode {
				case SlowDisk:
					ms, lo, hi = d.FsyncMs, minDiskMs, maxDiskMs
					d.FsyncMs = 0
				case SlowApply:
					ms, lo, hi = d.ApplyMs, minApplyMs, maxApplyMs
					d.ApplyMs = 0
				case SlowNet:
					ms, lo, hi = d.NetMs, minNetMs, maxNetMs
					d.NetMs = 0
				}
				if ms < lo || ms > hi || d != (client.Slow{}) {
					t.Fatalf("%s on %s: delays %+v, want only the mode's delay within [%d, %d]", mode, id, f.Delays[id], lo, hi)
				}
			}
		}
	}
}

// The composites slow the followers (net-isolate-leader: every node's
// network, the followers' state machines) and cut the leader off; like
// skew-isolate-leader they are planned only when partitions were asked for,
// as a kind or as the mode itself.
func TestSlowIsolateLeaderSlowsTheFollowersAndCutsTheLeaderOff(t *testing.T) {
	v := fiveView()
	followers := []string{"n1", "n3", "n4", "n5"}
	p := newTestPlanner(7, []Kind{Partition, Slow})
	for _, mode := range []string{SlowApplyIsolateLeader, SlowDiskIsolateLeader, SlowNetIsolateLeader} {
		if !slices.Contains(p.modes(Slow, v), mode) {
			t.Fatalf("slow modes %v lack %s with partitions requested", p.modes(Slow, v), mode)
		}
		f := p.slow(mode, v)
		if !reflect.DeepEqual(f.Grudge, GroupsGrudge(IsolateGroups(v.nodes, v.leader))) {
			t.Errorf("%s: grudge %v does not isolate the leader %s", mode, f.Grudge, v.leader)
		}
		lead := f.Delays[v.leader]
		for _, id := range followers {
			d := f.Delays[id]
			switch mode {
			case SlowApplyIsolateLeader:
				if d.ApplyMs < minApplyIsolateMs || d.ApplyMs > maxApplyIsolateMs || d.FsyncMs != 0 || d.NetMs != 0 {
					t.Errorf("%s: %s delays %+v", mode, id, d)
				}
			case SlowDiskIsolateLeader:
				if d.FsyncMs < minDiskMs || d.FsyncMs > maxDiskMs || d.ApplyMs != 0 || d.NetMs != 0 {
					t.Errorf("%s: %s delays %+v", mode, id, d)
				}
			case SlowNetIsolateLeader:
				if d.NetMs < minNetMs || d.NetMs > maxNetMs || d.ApplyMs != 2*d.NetMs+applyBeyondRoundTripMs || d.FsyncMs != 0 {
					t.Errorf("%s: %s delays %+v", mode, id, d)
				}
			}
			if d != f.Delays[followers[0]] {
				t.Errorf("%s: followers slowed unequally: %+v", mode, f.Delays)
			}
		}
		switch mode {
		case SlowNetIsolateLeader:
			// The leader's messages are delayed too, its state machine
			// is not.
			if lead != (client.Slow{NetMs: f.Delays["n1"].NetMs}) || !slices.Equal(f.Targets, v.nodes) {
				t.Errorf("%s: leader delays %+v, targets %v", mode, lead, f.Targets)
			}
		default:
			if _, slowed := f.Delays[v.leader]; slowed || !slices.Equal(f.Targets, followers) {
				t.Errorf("%s: the leader is slowed (%+v) or targets %v are not the followers", mode, lead, f.Targets)
			}
		}
	}
	slowOnly := newTestPlanner(7, []Kind{Slow})
	if got := slowOnly.modes(Slow, v); !slices.Equal(got, []string{SlowDisk, SlowApply, SlowNet}) {
		t.Errorf("slow modes without partitions: %v, want the plain ones only", got)
	}
	sel, err := ParseSelection("slow:apply-isolate-leader")
	if err != nil {
		t.Fatal(err)
	}
	asked := newPlanner(Options{Kinds: sel.Kinds, Modes: sel.Modes, Seed: 1, MaxNodes: 5, MaxClockDrift: 0.1}, five)
	if got := asked.modes(Slow, v); !slices.Equal(got, []string{SlowApplyIsolateLeader}) {
		t.Errorf("slow:apply-isolate-leader plays %v", got)
	}
	if got := asked.modes(Slow, view{nodes: five, voters: five}); len(got) != 0 {
		t.Errorf("without a leader slow:apply-isolate-leader still offers %v", got)
	}
}

// The slow kind came after the older kinds in AllKinds (only kinds added
// later follow it), so a seed that names only older kinds plans what it
// planned before; "all" includes slow.
func TestSlowIsTheLastKind(t *testing.T) {
	if !slices.Equal(AllKinds[:6], []Kind{Partition, Clock, Membership, Kill, Pause, Slow}) {
		t.Fatalf("AllKinds = %v: slow must stay after the five older kinds", AllKinds)
	}
	kinds := map[Kind]bool{}
	for _, f := range schedule(newTestPlanner(11, AllKinds), 300) {
		kinds[f.Kind] = true
	}
	if !kinds[Slow] {
		t.Error("no slow fault in 300 with every kind")
	}
}

func TestSlowEventValueAndString(t *testing.T) {
	f := fault{Kind: Slow, Mode: SlowApply, Targets: []string{"n2", "n4"},
		Delays: map[string]client.Slow{"n2": {ApplyMs: 800}, "n4": {ApplyMs: 1200}}}
	b, err := json.Marshal(f.eventValue())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"delays":{"n2":{"fsync_ms":0,"apply_ms":800,"net_ms":0},"n4":{"fsync_ms":0,"apply_ms":1200,"net_ms":0}},"mode":"apply"}`
	if string(b) != want {
		t.Errorf("event value %s, want %s", b, want)
	}
	if s := f.String(); s != "slow apply n2 apply 800ms, n4 apply 1200ms" {
		t.Errorf("String() = %q", s)
	}
	p := newTestPlanner(2, []Kind{Partition, Slow})
	c := p.slow(SlowNetIsolateLeader, fiveView())
	ev := c.eventValue()
	if ev["grudge"] == nil || ev["groups"] == nil || ev["delays"] == nil {
		t.Errorf("composite event value %v lacks the delays, groups or grudge", ev)
	}
	if s := c.String(); !strings.HasPrefix(s, "slow net-isolate-leader n1 apply ") || !strings.HasSuffix(s, "+ partition [n2 | n1 n3 n4 n5]") {
		t.Errorf("composite String() = %q", s)
	}
}

// A slow fault on a real raftd cluster: the delays are in place while it is
// held (GET /fault/slow answers them), and both its end and HealAll take
// them away, partition included.
func TestSlowFaultIsHealedOnARaftdCluster(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	n := New(tc.env, Options{Kinds: []Kind{Partition, Slow}, Interval: time.Second, Seed: 1, MaxNodes: 3, MaxClockDrift: 0.2})
	v := currentView(ctx, tc.env)
	f := n.plan.slow(SlowApplyIsolateLeader, v)
	a, err := n.start(ctx, f)
	if err != nil || a.startErr != nil {
		t.Fatalf("start %s: %v %v", f, err, a.startErr)
	}
	for _, id := range f.Targets {
		if got := slowOf(t, tc.env, id); got != f.Delays[id] {
			t.Errorf("%s while the fault holds: delays %+v, want %+v", id, got, f.Delays[id])
		}
	}
	n.opMu.Lock()
	err = n.endLocked(ctx, a, "")
	n.opMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range v.nodes {
		if got := slowOf(t, tc.env, id); got != (client.Slow{}) {
			t.Errorf("%s after the fault's end: delays %+v, want none", id, got)
		}
	}
	// Left in place, as an interrupted run would: HealAll removes it.
	f = n.plan.slow(SlowDisk, currentView(ctx, tc.env))
	if _, err := n.start(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range f.Targets {
		if got := slowOf(t, tc.env, id); got != (client.Slow{}) {
			t.Errorf("%s after HealAll: delays %+v, want none", id, got)
		}
	}
	requireHealthy(t, ctx, tc.env, 3)
	kinds := requireAllEnded(t, tc.readHistory(t))
	if kinds[string(Slow)] != 2 {
		t.Errorf("%d slow intervals, want 2 (kinds seen: %v)", kinds[string(Slow)], kinds)
	}
}

// slowOf reads node id's delays with GET /fault/slow.
func slowOf(t *testing.T, env Env, id string) client.Slow {
	t.Helper()
	raftd, ok := env.Admin.(*client.Client)
	if !ok {
		t.Fatalf("admin is %T, want raftd's *client.Client", env.Admin)
	}
	st, err := raftd.GetSlow(t.Context(), id)
	if err != nil {
		t.Fatalf("GET /fault/slow on %s: %v", id, err)
	}
	return st
}
