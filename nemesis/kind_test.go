package nemesis

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/system"
)

func TestParseKinds(t *testing.T) {
	cases := map[string][]Kind{
		"":                     AllKinds,
		"all":                  AllKinds,
		"none":                 nil,
		"partition":            {Partition},
		"kill,partition":       {Partition, Kill},
		" clock , pause,clock": {Clock, Pause},
		"membership,partition": {Partition, Membership},
	}
	for in, want := range cases {
		got, err := ParseKinds(in)
		if err != nil {
			t.Errorf("ParseKinds(%q): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseKinds(%q) = %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"partitions", "kill,,pause", "all,kill", "none,clock", "netem"} {
		_, err := ParseKinds(bad)
		if err == nil || !strings.Contains(err.Error(), "--nemesis") {
			t.Errorf("ParseKinds(%q) = %v, want an error naming --nemesis", bad, err)
		}
	}
}

func TestFormatKindsRoundTrips(t *testing.T) {
	for _, in := range []string{"none", "partition,clock,membership,kill,pause", "clock,pause"} {
		kinds, err := ParseKinds(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatKinds(kinds); got != in {
			t.Errorf("FormatKinds(ParseKinds(%q)) = %q", in, got)
		}
	}
}

func TestOptionsValidateNamesFlags(t *testing.T) {
	good := Options{Kinds: AllKinds, Interval: 1, MaxNodes: 5, MaxClockDrift: 0.1}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
	bad := Options{Kinds: []Kind{"bogus", Membership}, MaxNodes: 2, MaxClockDrift: 1}
	err := bad.Validate()
	for _, flag := range []string{"--interval", "--nodes", "--max-clock-drift", "--nemesis"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("Validate() = %v, want it to name %s", err, flag)
		}
	}
	if err := (Options{MaxNodes: 3}).Validate(); err != nil {
		t.Errorf("no kinds need no interval: %v", err)
	}
}

func TestParseSelectionLimitsKindsToModes(t *testing.T) {
	sel, err := ParseSelection("clock:skew-isolate-leader, partition:one-way,partition:isolate-leader,kill")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Kind{Partition, Clock, Kill}; !reflect.DeepEqual(sel.Kinds, want) {
		t.Errorf("kinds %v, want %v", sel.Kinds, want)
	}
	// Modes come out in the kind's own order, whatever the order written.
	want := map[Kind][]string{Partition: {TopoOneWay, TopoIsolateLeader}, Clock: {ClockSkewIsolateLeader}}
	if !reflect.DeepEqual(sel.Modes, want) {
		t.Errorf("modes %v, want %v", sel.Modes, want)
	}
	if got := sel.String(); got != "partition:one-way,partition:isolate-leader,clock:skew-isolate-leader,kill" {
		t.Errorf("String() = %q", got)
	}
	// A kind named bare as well plays every mode.
	if sel, _ := ParseSelection("partition,partition:one-way"); sel.Modes != nil {
		t.Errorf("bare kind limited to %v", sel.Modes)
	}
	for _, bad := range []string{"partition:", "partition:sideways", "kill:everyone", ":leader"} {
		if _, err := ParseSelection(bad); err == nil || !strings.Contains(err.Error(), "--nemesis") {
			t.Errorf("ParseSelection(%q) = %v, want an error naming --nemesis", bad, err)
		}
	}
	if _, err := ParseSelection("partition:sideways"); err == nil || !strings.Contains(err.Error(), TopoIsolateLeader) {
		t.Errorf("an unknown mode's error should list the kind's modes: %v", err)
	}
}

func TestPlannerPlaysOnlySelectedModes(t *testing.T) {
	sel, err := ParseSelection("partition:isolate-leader,clock:skew-isolate-leader")
	if err != nil {
		t.Fatal(err)
	}
	p := newPlanner(Options{Kinds: sel.Kinds, Modes: sel.Modes, Seed: 7, MaxNodes: 5, MaxClockDrift: 0.5}, nil)
	v := view{nodes: []string{"n1", "n2", "n3"}, voters: []string{"n1", "n2", "n3"}, leader: "n2"}
	seen := map[string]bool{}
	for range 50 {
		f, ok := p.next(v)
		if !ok {
			t.Fatal("no fault planned")
		}
		seen[string(f.Kind)+":"+f.Mode] = true
	}
	want := map[string]bool{"partition:isolate-leader": true, "clock:skew-isolate-leader": true}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("planned %v, want exactly %v", seen, want)
	}
	// The composite clock fault partitions, so asking for it by name is
	// enough even without the partition kind.
	sel, _ = ParseSelection("clock:skew-isolate-leader")
	p = newPlanner(Options{Kinds: sel.Kinds, Modes: sel.Modes, Seed: 7, MaxNodes: 5, MaxClockDrift: 0.5}, nil)
	if f, ok := p.next(v); !ok || f.Mode != ClockSkewIsolateLeader {
		t.Errorf("planned %+v, %v; want skew-isolate-leader", f, ok)
	}
	// Without a leader the selected mode does not apply: nothing is planned.
	if f, ok := p.next(view{nodes: v.nodes, voters: v.voters}); ok {
		t.Errorf("planned %+v with no leader known", f)
	}
}

func TestRegistryNamesEveryKindOnce(t *testing.T) {
	seen := map[Kind]bool{}
	for _, fk := range registry {
		k := fk.name()
		if seen[k] {
			t.Errorf("kind %s registered twice", k)
		}
		seen[k] = true
		if kindOf(k) != fk {
			t.Errorf("kindOf(%s) does not find its registration", k)
		}
		if len(KindModes(k)) == 0 {
			t.Errorf("kind %s offers no mode on five nodes with a leader", k)
		}
	}
	if !reflect.DeepEqual(kindNames(registry), EveryKind) {
		t.Errorf("AllKinds %v is not the registry's order", AllKinds)
	}
}

func TestForSystemRefusesAKindTheSystemCannotPlay(t *testing.T) {
	caps := system.Capabilities{system.Status} // no clock, no slow-down, no membership API
	sel, err := ParseSelection("partition,clock")
	if err != nil {
		t.Fatal(err)
	}
	_, err = sel.ForSystem("etcd", caps)
	var missing *system.MissingError
	if !errors.As(err, &missing) {
		t.Fatalf("ForSystem = %v, want a *system.MissingError", err)
	}
	want := &system.MissingError{System: "etcd", Capability: system.ClockSkew, Wanted: "nemesis kind clock",
		Available: []string{"partition", "kill", "pause", "power", "link", "corrupt"}}
	if !reflect.DeepEqual(missing, want) {
		t.Errorf("error %+v, want %+v", missing, want)
	}
	for _, part := range []string{"etcd", "clock-skew", "nemesis kind clock", "partition, kill, pause, power, link, corrupt"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %q", err, part)
		}
	}
	// "all" means every kind the system supports.
	all, _ := ParseSelection("all")
	got, err := all.ForSystem("etcd", caps)
	if err != nil || !reflect.DeepEqual(got.Kinds, []Kind{Partition, Kill, Pause, Corrupt}) {
		t.Errorf("all on etcd = %v, %v; want partition,kill,pause,corrupt", got.Kinds, err)
	}
	// raftd offers every capability: nothing is refused or dropped.
	if got, err := all.ForSystem("raftd", system.AllCapabilities); err != nil || !reflect.DeepEqual(got.Kinds, AllKinds) {
		t.Errorf("all on raftd = %v, %v; want every kind", got.Kinds, err)
	}
	// Options.Validate runs the same check before anything starts.
	opt := Options{Kinds: []Kind{Membership}, Interval: 1, MaxNodes: 5, System: "etcd", Capabilities: caps}
	if err := opt.Validate(); !errors.As(err, &missing) || missing.Capability != system.Membership {
		t.Errorf("Validate = %v, want the missing membership capability", err)
	}
}

func TestPlannerLeavesOutModesTheSystemCannotPlay(t *testing.T) {
	opt := Options{Kinds: []Kind{Partition}, MaxNodes: 5, Capabilities: system.Capabilities{system.Status}}
	p := newPlanner(opt, five)
	if got := p.modes(Partition, fiveView()); slices.Contains(got, TopoLagIsolateLeader) || !slices.Contains(got, TopoIsolateLeader) {
		t.Errorf("partition modes without slow-down: %v; want isolate-leader and no lag-isolate-leader", got)
	}
}

// etcd changes one member per request: membership is played on it without
// its swaps, and a swap named explicitly is refused before anything starts,
// naming etcd, member-replace and the membership modes that remain.
func TestSwapNeedsMemberReplace(t *testing.T) {
	etcd := system.Etcd(system.EtcdOptions{})
	caps := etcd.Capabilities()
	var missing *system.MissingError
	for _, nemesis := range []string{"partition,membership:swap", "membership:add+membership:swap-partition"} {
		sel, err := ParseSelection(nemesis)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sel.ForSystem(etcd.Name(), caps)
		if !errors.As(err, &missing) || missing.System != "etcd" || missing.Capability != system.MemberReplace {
			t.Fatalf("%s on etcd: ForSystem = %v, want etcd lacking member-replace", nemesis, err)
		}
		if !slices.Contains(missing.Available, "membership:add") || !slices.Contains(missing.Available, "partition") ||
			slices.Contains(missing.Available, "membership:swap") || slices.Contains(missing.Available, "membership") {
			t.Errorf("%s on etcd: available %v, want partition and membership's modes without the swaps", nemesis, missing.Available)
		}
	}
	sel, _ := ParseSelection("membership")
	if _, err := sel.ForSystem(etcd.Name(), caps); err != nil {
		t.Fatalf("membership on etcd refused: %v", err)
	}
	p := newPlanner(Options{Kinds: []Kind{Membership, Partition}, MaxNodes: 5, Capabilities: caps}, five)
	got := p.modes(Membership, fiveView())
	if slices.Contains(got, MemberSwap) || slices.Contains(got, MemberSwapPartition) || !slices.Contains(got, MemberReplace) {
		t.Errorf("membership modes on etcd: %v; want replace and no swap", got)
	}
	raftd := newPlanner(Options{Kinds: []Kind{Membership, Partition}, MaxNodes: 5, Capabilities: system.AllCapabilities}, five)
	if got := raftd.modes(Membership, fiveView()); !slices.Contains(got, MemberSwapPartition) {
		t.Errorf("membership modes on raftd: %v; want the swaps", got)
	}
}
