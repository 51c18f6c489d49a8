package sweep

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/system"
)

// Options are the settings of one sweep: every flag of `checker sweep`.
type Options struct {
	Seeds int `json:"seeds"` // campaigns per bug
	// Seed is the base seed: the i-th campaign of every bug (and the i-th
	// control) uses Seed+i, so one sweep's runs can be repeated one by one.
	Seed     int64         `json:"seed"`
	Duration time.Duration `json:"duration"` // of each campaign
	Runtime  string        `json:"runtime"`  // auto, docker or process
	// Bugs are bug names, or the single entry "all" for the whole catalogue.
	Bugs  []string `json:"bugs"`
	Store string   `json:"store"`
	Nodes int      `json:"nodes"`
	// Concurrency, Keys and Interval apply to every campaign of the sweep.
	Concurrency int           `json:"concurrency"`
	Keys        int           `json:"keys"`
	Interval    time.Duration `json:"interval"`
	// Controls is the number of control campaigns (no bug, all faults):
	// 0 means as many as Seeds, a negative number means none.
	Controls int `json:"controls"`
	// Shard runs one deterministic slice of the campaigns (zero: all).
	Shard Shard `json:"shard,omitzero"`
	// System and its companions choose the system every campaign runs
	// against, as `checker run`'s flags of the same names do. Planted bugs
	// exist only in raftd: another system runs the controls only
	// (ControlsOnly).
	System             string `json:"system,omitempty"`
	SystemBinary       string `json:"system_binary,omitempty"`
	SystemImage        string `json:"system_image,omitempty"`
	SystemArgs         string `json:"system_args,omitempty"`
	SystemCapabilities string `json:"system_capabilities,omitempty"`

	// Log receives the campaigns' log lines (nil = discard; each run keeps
	// its own campaign.log in its run directory anyway).
	Log *slog.Logger `json:"-"`
}

// Defaults of `checker sweep`.
const (
	DefaultSeeds    = 5
	DefaultSeed     = 1
	DefaultDuration = 60 * time.Second
	AllBugs         = "all"
	// MaxSeeds bounds one sweep to what a night can run.
	MaxSeeds = 100
)

// DefaultOptions returns the options `checker sweep` uses with no flags.
// Campaign settings not listed here keep `checker run`'s defaults.
func DefaultOptions() Options {
	return Options{
		Seeds:       DefaultSeeds,
		Seed:        DefaultSeed,
		Duration:    DefaultDuration,
		Runtime:     campaign.DefaultRuntime,
		Bugs:        []string{AllBugs},
		Store:       campaign.DefaultStore,
		Nodes:       campaign.DefaultNodes,
		Concurrency: campaign.DefaultConcurrency,
		Keys:        campaign.DefaultKeys,
		Interval:    campaign.DefaultInterval,
	}
}

// normalized fills zero fields with their defaults.
func (o Options) normalized() Options {
	d := DefaultOptions()
	if o.Runtime == "" {
		o.Runtime = d.Runtime
	}
	if len(o.Bugs) == 0 {
		o.Bugs = d.Bugs
	}
	if o.Store == "" {
		o.Store = d.Store
	}
	if o.Nodes == 0 {
		o.Nodes = d.Nodes
	}
	if o.Concurrency == 0 {
		o.Concurrency = d.Concurrency
	}
	if o.Keys == 0 {
		o.Keys = d.Keys
	}
	if o.Interval == 0 {
		o.Interval = d.Interval
	}
	return o
}

// ControlRuns is the number of control campaigns the options ask for.
func (o Options) ControlRuns() int {
	switch {
	case o.Controls < 0:
		return 0
	case o.Controls == 0:
		return o.Seeds
	}
	return o.Controls
}

// ControlsOnly reports whether the sweep's system has no planted bugs (any
// system but raftd): it then runs its controls and nothing else.
func (o Options) ControlsOnly() bool {
	return o.System != "" && o.System != system.NameRaftd
}

// SelectedBugs resolves Bugs ("all" or names, possibly comma-separated) to
// catalogue entries in catalogue order, refusing unknown names. A sweep of
// another system than raftd selects none ("all" of its bugs is nothing),
// and refuses bugs named explicitly.
func (o Options) SelectedBugs() ([]bugs.Bug, error) {
	var names []string
	for _, entry := range o.Bugs {
		for _, n := range strings.Split(entry, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	all := len(names) == 0 || (len(names) == 1 && names[0] == AllBugs)
	switch {
	case o.ControlsOnly() && all:
		return nil, nil
	case o.ControlsOnly():
		return nil, fmt.Errorf("--bugs: planted bugs exist only in raftd, not in %s (a sweep of --system %s runs controls only)", o.System, o.System)
	case all:
		return append([]bugs.Bug(nil), bugs.Catalogue...), nil
	}
	want := map[string]bool{}
	for _, n := range names {
		if n == AllBugs {
			return nil, fmt.Errorf("--bugs: %q cannot be combined with bug names", AllBugs)
		}
		if _, ok := bugs.Lookup(n); !ok {
			return nil, fmt.Errorf("--bugs: unknown bug %q (known: %s, or all)", n, strings.Join(bugs.Names(), ", "))
		}
		want[n] = true
	}
	var out []bugs.Bug
	for _, b := range bugs.Catalogue {
		if want[b.Name] {
			out = append(out, b)
		}
	}
	return out, nil
}

// Validate checks the sweep's own flags, then every campaign it would run
// (through campaign.Options.Validate, so a bad pairing in the catalogue is
// reported before anything starts). Errors name the flag.
func (o Options) Validate() error {
	o = o.normalized()
	if o.Seeds < 1 || o.Seeds > MaxSeeds {
		return fmt.Errorf("--seeds must be between 1 and %d, got %d", MaxSeeds, o.Seeds)
	}
	if o.Seed < 1 {
		// campaign.Run reads seed 0 as "pick one from the clock".
		return fmt.Errorf("--seed must be >= 1, got %d", o.Seed)
	}
	if o.Controls > MaxSeeds {
		return fmt.Errorf("--controls must be at most %d, got %d", MaxSeeds, o.Controls)
	}
	if _, err := o.SelectedBugs(); err != nil {
		return err
	}
	if err := o.Shard.validate(); err != nil {
		return err
	}
	plan, err := o.FullPlan()
	if err != nil {
		return err
	}
	if len(plan) == 0 && o.ControlsOnly() {
		return fmt.Errorf("--controls: a sweep of --system %s runs controls only (planted bugs exist only in raftd), and --controls %d asks for none", o.System, o.Controls)
	}
	if len(plan) == 0 {
		return fmt.Errorf("--bugs and --controls leave nothing to run")
	}
	return nil
}
