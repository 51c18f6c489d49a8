package nemesis

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// Options configure the schedule.
type Options struct {
	Kinds []Kind // from ParseSelection (--nemesis); empty: no faults
	// Modes limits a kind to some of its modes (--nemesis kind:mode); a
	// kind absent here plays all of its modes.
	Modes map[Kind][]string
	// Composites are the faults named together with "+" in --nemesis.
	Composites []Composite
	// Concurrent is how many faults may be active at once
	// (--concurrent-faults): 0 or 1 plays one fault at a time, as always;
	// more plays that many lanes, each on its own seeded schedule
	// (overlap.go).
	Concurrent int
	// Interval is both how long a fault is held and the quiet time between
	// two faults (--interval).
	Interval time.Duration
	Seed     int64 // --seed: the same seed replays the same schedule
	// MaxNodes is --nodes: membership changes keep the number of voters
	// within [3, MaxNodes] (so with --nodes 3 the only churn is swaps).
	MaxNodes int
	// MaxClockDrift is raftd's --max-clock-drift as a fraction (0.1 = 10%):
	// rate skew stays within the bound of RateBounds.
	MaxClockDrift float64
	// System names the system under test and Capabilities lists what it
	// offers: Validate refuses a kind that needs more (ForSystem), and the
	// planner leaves out modes that need more. Nil Capabilities: no system
	// was declared, every capability is assumed (raftd offers them all).
	System       string
	Capabilities system.Capabilities
}

// Validate names the flag of every bad field.
func (o Options) Validate() error {
	var errs []error
	if o.Concurrent < 0 || o.Concurrent > MaxConcurrent {
		errs = append(errs, fmt.Errorf("--concurrent-faults must be between 1 and %d, got %d", MaxConcurrent, o.Concurrent))
	}
	if o.playsFaults() && o.Interval <= 0 {
		errs = append(errs, fmt.Errorf("--interval must be > 0, got %s", o.Interval))
	}
	sel := Selection{Kinds: o.Kinds, Modes: o.Modes, Composites: o.Composites}
	if slices.Contains(sel.allKinds(), Membership) && o.MaxNodes < minVoters {
		errs = append(errs, fmt.Errorf("--nodes must be >= %d, got %d", minVoters, o.MaxNodes))
	}
	if o.MaxClockDrift < 0 || o.MaxClockDrift >= 1 {
		errs = append(errs, fmt.Errorf("--max-clock-drift must be in [0, 1), got %g", o.MaxClockDrift))
	}
	for _, k := range o.Kinds {
		if _, err := ParseKinds(string(k)); err != nil {
			errs = append(errs, err)
		}
	}
	if o.Capabilities != nil {
		if _, err := sel.ForSystem(o.System, o.Capabilities); err != nil {
			errs = append(errs, err)
		}
	}
	for k, modes := range o.Modes {
		if !slices.Contains(o.Kinds, k) {
			errs = append(errs, fmt.Errorf("--nemesis: modes given for %s, which is not among the kinds", k))
		}
		for _, m := range modes {
			if !slices.Contains(KindModes(k), m) {
				errs = append(errs, fmt.Errorf("--nemesis: %q is not a mode of %s", m, k))
			}
		}
	}
	return errors.Join(errs...)
}

// playsFaults reports whether the options ask for any fault.
func (o Options) playsFaults() bool { return len(o.Kinds) > 0 || len(o.Composites) > 0 }

// Env is what the nemesis acts on and reports to.
type Env struct {
	Cluster runtime.Cluster
	// Admin is the system's admin client: status, membership and faults. The
	// nemesis keeps its address book in step with the cluster's nodes.
	Admin system.Admin
	Rec   *history.Recorder
	Log   *slog.Logger // nil: discard
}

func (e Env) logger() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}
