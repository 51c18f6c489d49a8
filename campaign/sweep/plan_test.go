package sweep

import (
	"cmp"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/bugs"
)

func TestValidateNamesTheFlag(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Options)
		flag string
	}{
		{"no seeds", func(o *Options) { o.Seeds = 0 }, "--seeds"},
		{"too many seeds", func(o *Options) { o.Seeds = MaxSeeds + 1 }, "--seeds"},
		{"seed zero picks from the clock", func(o *Options) { o.Seed = 0 }, "--seed"},
		{"unknown bug", func(o *Options) { o.Bugs = []string{"stale-local-read,no-such-bug"} }, `--bugs: unknown bug "no-such-bug"`},
		{"all mixed with names", func(o *Options) { o.Bugs = []string{"all", "no-dedup"} }, "--bugs"},
		{"bad runtime", func(o *Options) { o.Runtime = "vm" }, "--runtime"},
		{"too few nodes", func(o *Options) { o.Nodes = 2 }, "--nodes"},
		{"negative duration", func(o *Options) { o.Duration = -time.Second }, "--duration"},
		{"too many controls", func(o *Options) { o.Controls = MaxSeeds + 1 }, "--controls"},
		{"unknown system", func(o *Options) { o.System = "zookeeper" }, "--system must be one of"},
		{"bug of another system", func(o *Options) { o.System, o.Bugs = "etcd", []string{"no-dedup"} }, "--bugs: planted bugs exist only in raftd"},
		{"no controls of another system", func(o *Options) { o.System, o.Controls = "etcd", -1 }, "--controls"},
		{"http without its binary", func(o *Options) { o.System = "http" }, "--system"},
		{"etcd with an http template", func(o *Options) { o.System, o.SystemArgs = "etcd", "--listen {listen}" }, "--system-args"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			c.edit(&o)
			err := o.Validate()
			if err == nil || !strings.Contains(err.Error(), c.flag) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, c.flag)
			}
		})
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("default options: %v", err)
	}
}

func TestSelectedBugsKeepsCatalogueOrder(t *testing.T) {
	o := DefaultOptions()
	o.Bugs = []string{"no-dedup, stale-local-read", "ack-before-commit"}
	got, err := o.SelectedBugs()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range got {
		names = append(names, b.Name)
	}
	if want := "stale-local-read ack-before-commit no-dedup"; strings.Join(names, " ") != want {
		t.Fatalf("selected %v, want %s", names, want)
	}
	o.Bugs = []string{AllBugs}
	all, err := o.SelectedBugs()
	if err != nil || len(all) != len(bugs.Catalogue) {
		t.Fatalf("all: %d bugs, err %v; want the %d of the catalogue", len(all), err, len(bugs.Catalogue))
	}
}

func TestPlanPairsEveryBugWithItsExposure(t *testing.T) {
	o := DefaultOptions()
	o.Seeds = 2
	o.Seed = 40
	o.Bugs = []string{bugs.RemovedServerDisrupts + "," + bugs.StaleLocalRead, bugs.AckBeforeCommit}
	o.Store = "/tmp/sweep-store"
	plan, err := o.Plan()
	if err != nil {
		t.Fatal(err)
	}
	// Seed-major: bug, liveness bug, its baseline, control; twice.
	var got []string
	for _, p := range plan {
		got = append(got, p.Role+":"+p.Bug)
	}
	want := "bug:stale-local-read bug:ack-before-commit bug:removed-server-disrupts baseline:removed-server-disrupts control: " +
		"bug:stale-local-read bug:ack-before-commit bug:removed-server-disrupts baseline:removed-server-disrupts control:"
	if strings.Join(got, " ") != want {
		t.Fatalf("plan order\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	for _, p := range plan {
		c := p.Options
		if c.Seed != 40+int64(p.Index) {
			t.Errorf("%s %s index %d: seed %d", p.Role, p.Bug, p.Index, c.Seed)
		}
		if c.Duration != o.Duration || c.Store != o.Store || c.Runtime != o.Runtime {
			t.Errorf("%s %s: sweep settings not applied: %+v", p.Role, p.Bug, c)
		}
		switch p.Role {
		case RoleBug, RoleBaseline:
			b, _ := bugs.Lookup(p.Bug)
			e := Exposures[b.Name]
			if wantNodes := cmp.Or(e.Nodes, o.Nodes); c.Nodes != wantNodes {
				t.Errorf("%s %s: %d nodes, want %d", p.Role, p.Bug, c.Nodes, wantNodes)
			}
			if c.Nemesis != e.Nemesis || c.Workload != e.Workload || c.ReadMode != e.ReadMode || c.Read != e.Read {
				t.Errorf("%s %s: campaign %s/%s/%s/%q, exposure %+v", p.Role, p.Bug, c.Nemesis, c.Workload, c.ReadMode, c.Read, e)
			}
			if wantKeys := cmp.Or(e.Keys, o.Keys); c.Keys != wantKeys {
				t.Errorf("%s %s: %d keys, want %d", p.Role, p.Bug, c.Keys, wantKeys)
			}
			if wantConc := cmp.Or(e.Concurrency, o.Concurrency); c.Concurrency != wantConc {
				t.Errorf("%s %s: concurrency %d, want %d", p.Role, p.Bug, c.Concurrency, wantConc)
			}
			if wantInterval := cmp.Or(e.Interval, o.Interval); c.Interval != wantInterval {
				t.Errorf("%s %s: interval %s, want %s", p.Role, p.Bug, c.Interval, wantInterval)
			}
			if e.MaxClockDrift > 0 && c.MaxClockDrift != e.MaxClockDrift {
				t.Errorf("%s %s: max clock drift %g, want the exposure's %g", p.Role, p.Bug, c.MaxClockDrift, e.MaxClockDrift)
			}
			if e.RequestTimeout > 0 && c.RequestTimeout != e.RequestTimeout {
				t.Errorf("%s %s: request timeout %s, want the exposure's %s", p.Role, p.Bug, c.RequestTimeout, e.RequestTimeout)
			}
			wantBugs, wantName := "["+p.Bug+"]", "sweep-"+p.Bug
			if p.Role == RoleBaseline {
				wantBugs, wantName = "[]", "sweep-baseline-"+p.Bug
			}
			if got := "[" + strings.Join(c.Bugs, ",") + "]"; got != wantBugs || c.CampaignName() != wantName {
				t.Errorf("%s %s: bugs %s name %s, want %s %s", p.Role, p.Bug, got, c.CampaignName(), wantBugs, wantName)
			}
		case RoleControl:
			if c.Nodes != o.Nodes {
				t.Errorf("control %d: %d nodes, want the sweep's %d", p.Index, c.Nodes, o.Nodes)
			}
			wantWorkload := []string{"register", "append"}[p.Index%2]
			if len(c.Bugs) != 0 || c.Nemesis != "all" || c.Workload != wantWorkload || c.ReadMode != "readindex" || c.CampaignName() != "sweep-control" {
				t.Errorf("control %d: %+v", p.Index, c)
			}
		}
	}
}

func TestPlanControlCounts(t *testing.T) {
	o := DefaultOptions()
	o.Seeds = 2
	o.Bugs = []string{bugs.NoDedup}
	count := func(controls int) int {
		o.Controls = controls
		plan, err := o.Plan()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range plan {
			if p.Role == RoleControl {
				n++
			}
		}
		return n
	}
	if n := count(0); n != 2 {
		t.Errorf("--controls 0: %d controls, want as many as --seeds (2)", n)
	}
	if n := count(-1); n != 0 {
		t.Errorf("--controls -1: %d controls, want none", n)
	}
	if n := count(3); n != 3 {
		t.Errorf("--controls 3: %d controls", n)
	}
}

// A bug whose exposure names a cluster size runs with it, whatever the
// sweep's --nodes; the controls keep the sweep's size.
func TestPlanAppliesExposureNodes(t *testing.T) {
	var b bugs.Bug
	for _, x := range bugs.Catalogue {
		if Exposures[x.Name].Nodes > 0 {
			b = x
			break
		}
	}
	if b.Name == "" {
		t.Skip("no exposure in the catalogue sets Nodes")
	}
	o := DefaultOptions()
	o.Seeds, o.Nodes = 1, Exposures[b.Name].Nodes+2
	o.Bugs = []string{b.Name}
	plan, err := o.Plan()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plan {
		want := o.Nodes
		if p.Role == RoleBug {
			want = Exposures[b.Name].Nodes
		}
		if p.Options.Nodes != want {
			t.Errorf("%s %s: %d nodes, want %d", p.Role, p.Bug, p.Options.Nodes, want)
		}
	}
}

// A sweep of etcd runs the controls only, against etcd, under every fault
// etcd supports (clock and slow faults are left out by "all").
func TestPlanOfAnotherSystemIsControlsOnly(t *testing.T) {
	o := DefaultOptions()
	o.System, o.Seeds, o.Controls = "etcd", 2, 3
	if !o.ControlsOnly() || DefaultOptions().ControlsOnly() {
		t.Fatal("ControlsOnly: want true for etcd only")
	}
	plan, err := o.FullPlan()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 3 {
		t.Fatalf("plan has %d campaigns, want the 3 controls", len(plan))
	}
	for _, p := range plan {
		if p.Role != RoleControl || p.Options.System != "etcd" || len(p.Options.Bugs) != 0 {
			t.Errorf("planned %s of system %q with bugs %v; want etcd controls", p.Role, p.Options.System, p.Options.Bugs)
		}
		if err := p.Options.Validate(); err != nil {
			t.Errorf("control %d: %v", p.Index, err)
		}
	}
	var table strings.Builder
	if err := WriteTable(&table, newMatrix(o, plan)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "system etcd: controls only") {
		t.Errorf("the table does not say the sweep ran controls only:\n%s", table.String())
	}
}
