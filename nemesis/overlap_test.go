package nemesis

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/runtime"
)

func testTimeline(seed int64, lanes int, kinds []Kind) *timeline {
	return newTimeline(Options{Kinds: kinds, Concurrent: lanes, Seed: seed, Interval: time.Second})
}

func slots(t *timeline, n int) []slot {
	out := make([]slot, n)
	for i := range out {
		out[i] = t.nextSlot()
	}
	return out
}

func overlaps(a, b slot) bool { return a.start < b.end && b.start < a.end }

// describe names a slot's play for the fixed-seed expectations.
func (t *timeline) describe(s slot) string {
	if s.choice < 0 {
		return fmt.Sprintf("lane%d quiet", s.lane)
	}
	return fmt.Sprintf("lane%d %s", s.lane, FormatKinds(t.choices[s.choice]))
}

func TestTimelineIsSeededAndKeepsTheOverlapRules(t *testing.T) {
	all := AllKinds
	a, b := slots(testTimeline(7, 3, all), 300), slots(testTimeline(7, 3, all), 300)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed planned different timelines")
	}
	if c := slots(testTimeline(8, 3, all), 300); reflect.DeepEqual(a, c) {
		t.Fatal("seeds 7 and 8 planned the same timeline")
	}
	tl := testTimeline(7, 3, all)
	overlapping := 0
	for i, x := range a {
		if x.end-x.start < time.Second/2 || x.end-x.start > 3*time.Second/2 {
			t.Fatalf("slot %d holds %v, outside [0.5, 1.5] interval", i, x.end-x.start)
		}
		for _, y := range a[i+1:] {
			if !overlaps(x, y) {
				continue
			}
			if x.lane == y.lane {
				t.Fatalf("lane %d plays %v and %v at once", x.lane, x, y)
			}
			if x.choice < 0 || y.choice < 0 {
				continue
			}
			overlapping++
			kx, ky := tl.choices[x.choice], tl.choices[y.choice]
			if !compatibleSets(kx, ky) {
				t.Fatalf("%s overlaps %s, which do not combine", tl.describe(x), tl.describe(y))
			}
			if slices.Contains(kx, Membership) || slices.Contains(ky, Membership) {
				t.Fatalf("membership overlaps: %s and %s", tl.describe(x), tl.describe(y))
			}
		}
	}
	if overlapping < 50 {
		t.Errorf("only %d overlapping pairs in 300 plays of 3 lanes", overlapping)
	}
}

// TestTimelineOverlapsForAFixedSeed pins which plays overlap for seed 1 with
// two lanes of partition, kill and clock: a change to the planner that moves
// a schedule shows here.
func TestTimelineOverlapsForAFixedSeed(t *testing.T) {
	tl := testTimeline(1, 2, []Kind{Partition, Clock, Kill})
	ss := slots(tl, 8)
	var got []string
	for i, x := range ss {
		for _, y := range ss[i+1:] {
			if overlaps(x, y) && x.choice >= 0 && y.choice >= 0 {
				got = append(got, tl.describe(x)+" & "+tl.describe(y))
			}
		}
	}
	want := []string{
		"lane0 kill & lane1 partition",
		"lane1 partition & lane0 clock",
		"lane1 clock & lane0 partition",
		"lane1 clock & lane0 kill",
		"lane1 clock & lane0 partition",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("overlapping plays of seed 1:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCompatibility(t *testing.T) {
	cases := []struct {
		a, b Kind
		want bool
	}{
		{Partition, Partition, true}, {Kill, Kill, true}, {Pause, Pause, true},
		{Clock, Clock, false}, {Slow, Slow, false},
		{Partition, Clock, true}, {Kill, Slow, true},
		{Membership, Partition, false}, {Membership, Membership, false},
	}
	for _, c := range cases {
		if got := compatible(c.a, c.b); got != c.want {
			t.Errorf("compatible(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestUnionGrudgeDropsWhatAnyDrops(t *testing.T) {
	u := unionGrudge(map[int]runtime.Grudge{1: {"n1": {"n3", "n2"}}, 2: {"n1": {"n2", "n4"}, "n5": {"n1"}}})
	want := runtime.Grudge{"n1": {"n2", "n3", "n4"}, "n5": {"n1"}}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("union %v, want %v", u, want)
	}
}

func TestParseSelectionReadsComposites(t *testing.T) {
	sel, err := ParseSelection("partition:isolate-leader+kill:one, clock ,slow+pause")
	if err != nil {
		t.Fatal(err)
	}
	want := []Composite{{{Partition, TopoIsolateLeader}, {Kill, TargetOne}}, {{Slow, ""}, {Pause, ""}}}
	if !reflect.DeepEqual(sel.Kinds, []Kind{Clock}) || !reflect.DeepEqual(sel.Composites, want) {
		t.Errorf("kinds %v composites %v, want [clock] and %v", sel.Kinds, sel.Composites, want)
	}
	if s := sel.String(); s != "clock,partition:isolate-leader+kill:one,slow+pause" {
		t.Errorf("String() = %q", s)
	}
	for _, bad := range []string{"partition+", "partition+netem", "kill:everyone+pause"} {
		if _, err := ParseSelection(bad); err == nil || !strings.Contains(err.Error(), "--nemesis") {
			t.Errorf("ParseSelection(%q) = %v, want an error naming --nemesis", bad, err)
		}
	}
}

// A composite's explicit modes are played even when its kinds are not
// selected alone (skew-isolate-leader needs partitions otherwise).
func TestCompositeIsPlannedWholeOnItsModes(t *testing.T) {
	sel, _ := ParseSelection("clock:skew-isolate-leader+kill:leader")
	p := newPlanner(Options{Kinds: sel.Kinds, Composites: sel.Composites, Seed: 3, MaxNodes: 5, MaxClockDrift: 0.5}, five)
	faults, ok := p.nextPlay(fiveView())
	if !ok || len(faults) != 2 || faults[0].Mode != ClockSkewIsolateLeader || faults[1].Kind != Kill || faults[1].Mode != TargetLeader {
		t.Fatalf("planned %v, %v; want skew-isolate-leader then kill leader", faults, ok)
	}
	if _, ok := p.nextPlay(view{nodes: five, voters: five}); ok {
		t.Error("planned a composite whose modes need a leader with no leader known")
	}
}

// TestOverlappingFaultsAreAllHealed runs three lanes of faults on five
// raftd processes: faults overlap in the history, every one is ended, and
// the cluster recovers.
func TestOverlappingFaultsAreAllHealed(t *testing.T) {
	ctx, tc := startCluster(t, 5)
	sel, _ := ParseSelection("partition,kill,pause,clock,slow,partition:isolate-leader+slow:disk")
	n := New(tc.env, Options{Kinds: sel.Kinds, Composites: sel.Composites, Concurrent: 3,
		Interval: 500 * time.Millisecond, Seed: 5, MaxNodes: 5, MaxClockDrift: 0.2})
	runCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := n.Run(runCtx); err != nil {
		t.Fatal(err)
	}
	if cur := n.Current(); cur != "" {
		t.Fatalf("Run returned with %q still active", cur)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	requireHealthy(t, ctx, tc.env, 5)
	events := tc.readHistory(t)
	requireAllEnded(t, events)
	var faults []history.Interval
	for _, iv := range history.NemesisIntervals(events) {
		if iv.Kind != "heal" {
			faults = append(faults, iv)
		}
	}
	overlapping := 0
	for i, a := range faults {
		for _, b := range faults[i+1:] {
			if a.Start < b.End && b.Start < a.End {
				overlapping++
			}
		}
	}
	if len(faults) < 4 || overlapping == 0 {
		t.Fatalf("%d faults, %d overlapping pairs: want several faults, some overlapping", len(faults), overlapping)
	}
	t.Logf("%d faults, %d overlapping pairs", len(faults), overlapping)
}

// TestCompositeStartsAndEndsTogether plays one composite on three raftd
// processes: both faults are recorded, overlap, end in reverse order, and
// the cluster recovers.
func TestCompositeStartsAndEndsTogether(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	sel, err := ParseSelection("partition:isolate-leader+pause:one")
	if err != nil {
		t.Fatal(err)
	}
	n := New(tc.env, Options{Composites: sel.Composites, Interval: 500 * time.Millisecond, Seed: 2, MaxNodes: 3})
	if err := n.step(ctx); err != nil {
		t.Fatal(err)
	}
	if cur := n.Current(); cur != "" {
		t.Fatalf("%q still active after the composite's end", cur)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	requireHealthy(t, ctx, tc.env, 3)
	events := tc.readHistory(t)
	requireAllEnded(t, events)
	var fs []string
	for _, e := range events {
		if e.Process.Nemesis && e.F != "heal" {
			fs = append(fs, e.F)
		}
	}
	if want := []string{"partition-start", "pause-start", "pause-end", "partition-end"}; !reflect.DeepEqual(fs, want) {
		t.Fatalf("nemesis events %v, want %v", fs, want)
	}
}
