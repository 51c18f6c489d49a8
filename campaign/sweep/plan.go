package sweep

import (
	"errors"
	"fmt"
	"strings"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/sut/bugs"
)

// Roles of the campaigns of a sweep.
const (
	// RoleBug is a campaign with one planted bug under its exposure.
	RoleBug = "bug"
	// RoleControl is a campaign with no bug under all faults: it must
	// stay valid.
	RoleControl = "control"
	// RoleBaseline is a liveness bug's exposure and seed with no bug: the
	// availability its bug run is compared with. It has no bug either, so
	// it must stay valid like a control.
	RoleBaseline = "baseline"
)

// Names of the campaigns in the store.
const (
	bugRunPrefix      = "sweep-"
	controlRunName    = "sweep-control"
	baselineRunPrefix = "sweep-baseline-"
)

// controlWorkloads alternate between control campaigns: the register
// workload exercises reads, writes and cas; append exposes lost and
// duplicated writes.
var controlWorkloads = []string{"register", "append"}

// PlannedRun is one campaign of a sweep.
type PlannedRun struct {
	Role    string           // RoleBug, RoleControl or RoleBaseline
	Bug     string           // the bug (RoleBug) or the bug it is a baseline of; "" for controls
	Index   int              // 0-based seed index
	Options campaign.Options // the complete campaign, seed included
}

// Plan lists the campaigns this sweep runs: FullPlan, or the slice of it
// o.Shard selects.
func (o Options) Plan() ([]PlannedRun, error) {
	plan, err := o.FullPlan()
	if err != nil {
		return nil, err
	}
	return o.Shard.Select(plan), nil
}

// FullPlan lists every campaign of the sweep, seed-major: the first seed of
// every bug (each liveness bug followed by its baseline), then the first
// control, then the second seed, and so on. A sweep stopped half-way thus
// has looked at every bug at least once.
func (o Options) FullPlan() ([]PlannedRun, error) {
	o = o.normalized()
	selected, err := o.SelectedBugs()
	if err != nil {
		return nil, err
	}
	controls := o.ControlRuns()
	rounds := max(o.Seeds, controls)
	var plan []PlannedRun
	for i := range rounds {
		if i < o.Seeds {
			for _, b := range selected {
				plan = append(plan, PlannedRun{Role: RoleBug, Bug: b.Name, Index: i, Options: o.bugCampaign(b, i)})
				if b.Liveness {
					plan = append(plan, PlannedRun{Role: RoleBaseline, Bug: b.Name, Index: i, Options: o.baselineCampaign(b, i)})
				}
			}
		}
		if i < controls {
			plan = append(plan, PlannedRun{Role: RoleControl, Index: i, Options: o.controlCampaign(i)})
		}
	}
	for _, p := range plan {
		if err := p.Options.Validate(); err != nil {
			var fe *campaign.FieldError
			if errors.As(err, &fe) && strings.HasPrefix(fe.Field, "system") {
				return nil, err // the sweep's own flag, named as `checker run` names it
			}
			what := "control campaign"
			if p.Bug != "" {
				what = fmt.Sprintf("campaign of bug %s (its exposure in campaign/sweep/exposures.go)", p.Bug)
			}
			return nil, fmt.Errorf("%s, seed %d: %w", what, p.Options.Seed, err)
		}
	}
	return plan, nil
}

// base is the campaign every run of the sweep starts from.
func (o Options) base(i int) campaign.Options {
	c := campaign.DefaultOptions()
	c.Runtime = o.Runtime
	c.Nodes = o.Nodes
	c.Duration = o.Duration
	c.Concurrency = o.Concurrency
	c.Keys = o.Keys
	c.Interval = o.Interval
	c.Store = o.Store
	c.Seed = o.Seed + int64(i)
	c.Bugs = []string{}
	c.Log = o.Log
	if o.System != "" {
		c.System = o.System
	}
	c.SystemBinary, c.SystemImage, c.SystemArgs, c.SystemCapabilities = o.SystemBinary, o.SystemImage, o.SystemArgs, o.SystemCapabilities
	return c
}

// applyExposure sets the campaign fields a bug's exposure decides.
func applyExposure(c *campaign.Options, e Exposure) {
	c.Nemesis = e.Nemesis
	c.Workload = e.Workload
	if e.ReadMode != "" {
		c.ReadMode = e.ReadMode
	}
	c.Read = e.Read
	if e.Keys > 0 {
		c.Keys = e.Keys
	}
	if e.Concurrency > 0 {
		c.Concurrency = e.Concurrency
	}
	if e.Interval > 0 {
		c.Interval = e.Interval
	}
	if e.Nodes > 0 {
		c.Nodes = e.Nodes
	}
	if e.Rate > 0 {
		c.Rate = e.Rate
	}
	if e.MaxClockDrift > 0 {
		c.MaxClockDrift = e.MaxClockDrift
	}
	if e.RequestTimeout > 0 {
		c.RequestTimeout = e.RequestTimeout
	}
}

func (o Options) bugCampaign(b bugs.Bug, i int) campaign.Options {
	c := o.base(i)
	applyExposure(&c, Exposures[b.Name])
	c.Bugs = []string{b.Name}
	c.Name = bugRunPrefix + b.Name
	return c
}

func (o Options) baselineCampaign(b bugs.Bug, i int) campaign.Options {
	c := o.base(i)
	applyExposure(&c, Exposures[b.Name])
	c.Name = baselineRunPrefix + b.Name
	return c
}

// controlCampaign: no bug, every fault the system supports ("all" is
// narrowed to them by campaign.Options).
func (o Options) controlCampaign(i int) campaign.Options {
	c := o.base(i)
	c.Nemesis = "all"
	c.Workload = controlWorkloads[i%len(controlWorkloads)]
	c.ReadMode = campaign.DefaultReadMode
	c.Name = controlRunName
	return c
}
