package nemesis

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/history"
)

// Nemesis runs the fault schedule of one campaign and guarantees that every
// fault it starts is healed.
type Nemesis struct {
	env Env
	opt Options
	log *slog.Logger

	// opMu serializes every action on the cluster: a fault's start and end
	// in Run, and HealAll. Run does not hold it while a fault is held, so
	// HealAll can end a fault early and Run then finds nothing left to end.
	opMu sync.Mutex
	plan *planner

	mu     sync.Mutex     // guards active and damage (Current reads them)
	active []*activeFault // started and not ended, oldest first (Run keeps at most one)
	damage damage
}

// activeFault is a fault whose start is recorded and whose end is not.
type activeFault struct {
	f        fault
	startErr error // the fault may be only partly in place
}

// damage is every effect of the nemesis that is not undone yet. It is
// marked before an action is tried, so an action that timed out (and may
// have happened) is undone too.
type damage struct {
	partitioned bool
	membership  bool // a membership change may be unfinished
	// nodes holds, per damage set, the nodes in that state: the shared sets
	// below, and those of kinds that keep damage of their own (sweeper).
	nodes map[damageSet]map[string]bool
}

// damageSet names a state a node can be left in.
type damageSet string

// The damage sets of the shared effects.
const (
	setKilled damageSet = "killed"
	setPaused damageSet = "paused"
	setSkewed damageSet = "skewed" // clock offset or rate changed
	setSlowed damageSet = "slowed" // slow-down delays set
)

// New returns a nemesis for env; nothing happens until Run.
func New(env Env, opt Options) *Nemesis {
	return &Nemesis{
		env:    env,
		opt:    opt,
		log:    env.logger().With("component", "nemesis"),
		plan:   newPlanner(opt, env.Cluster.Nodes()),
		damage: damage{nodes: map[damageSet]map[string]bool{}},
	}
}

// Run loops until ctx is done: pick a fault (seeded), start it and record
// "<kind>-start", hold it for Interval, heal it and record "<kind>-end",
// stay quiet for Interval. When ctx ends during a hold the fault is healed
// before Run returns. Failures to start or heal a fault are logged and
// recorded in the end event (HealAll retries what is left); Run returns an
// error only for bad options or when the history cannot be written.
func (n *Nemesis) Run(ctx context.Context) error {
	if err := n.opt.Validate(); err != nil {
		return err
	}
	if len(n.opt.Kinds) == 0 {
		<-ctx.Done()
		return nil
	}
	for ctx.Err() == nil {
		if err := n.step(ctx); err != nil {
			return err
		}
		if !sleepCtx(ctx, n.opt.Interval) {
			break
		}
	}
	return nil
}

// step plays one fault: plan, start, hold, end.
func (n *Nemesis) step(ctx context.Context) error {
	v := currentView(ctx, n.env)
	if ctx.Err() != nil {
		return nil // the run is over: start nothing new
	}
	n.opMu.Lock()
	f, ok := n.plan.next(v)
	n.opMu.Unlock()
	if !ok {
		n.log.Info("no fault applies to the cluster as it is; staying quiet",
			"nemesis", Selection{Kinds: n.opt.Kinds, Modes: n.opt.Modes}.String(), "nodes", v.nodes, "voters", v.voters)
		return nil
	}
	a, err := n.start(ctx, f)
	if err != nil {
		return err
	}
	n.hold(ctx, a)
	healCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healTimeout)
	defer cancel()
	n.opMu.Lock()
	defer n.opMu.Unlock()
	return n.endLocked(healCtx, a, "")
}

// start records the start event and puts the fault in place.
func (n *Nemesis) start(ctx context.Context, f fault) (*activeFault, error) {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if err := n.record(string(f.Kind)+"-start", f.eventValue()); err != nil {
		return nil, err
	}
	a := &activeFault{f: f}
	n.mu.Lock()
	n.active = append(n.active, a)
	n.mu.Unlock()
	n.log.Info("fault start", "fault", f.String())
	if err := n.apply(ctx, f); err != nil {
		a.startErr = err
		n.log.Warn("fault start failed", "fault", f.String(), "err", err)
	}
	return a, nil
}

// apply puts f in place through its kind.
func (n *Nemesis) apply(ctx context.Context, f fault) error {
	fk := kindOf(f.Kind)
	if fk == nil {
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	return fk.start(ctx, n, f)
}

// hold keeps the fault in place for Interval or until ctx is done, unless
// its kind acts during the hold (holder).
func (n *Nemesis) hold(ctx context.Context, a *activeFault) {
	if h, ok := kindOf(a.f.Kind).(holder); ok {
		h.hold(ctx, n, a)
		return
	}
	sleepCtx(ctx, n.opt.Interval)
}

// Current describes the active fault for the progress line: "" when none.
func (n *Nemesis) Current() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	parts := make([]string, len(n.active))
	for i, a := range n.active {
		parts[i] = a.f.String()
	}
	return strings.Join(parts, "; ")
}

func (n *Nemesis) isActive(a *activeFault) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Contains(n.active, a)
}

func (n *Nemesis) mark(change func(*damage)) {
	n.mu.Lock()
	change(&n.damage)
	n.mu.Unlock()
}

// markNode records that node id is in damage set; unmarkNode undoes it once
// healed.
func (n *Nemesis) markNode(set damageSet, id string) {
	n.mark(func(d *damage) {
		if d.nodes[set] == nil {
			d.nodes[set] = map[string]bool{}
		}
		d.nodes[set][id] = true
	})
}

func (n *Nemesis) unmarkNode(set damageSet, id string) {
	n.mark(func(d *damage) { delete(d.nodes[set], id) })
}

// nodesIn lists, sorted, the nodes in damage set.
func (n *Nemesis) nodesIn(set damageSet) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Sorted(maps.Keys(n.damage.nodes[set]))
}

// record writes a nemesis event on the history's clock.
func (n *Nemesis) record(f string, value any) error {
	if n.env.Rec == nil {
		return nil
	}
	_, _, err := n.env.Rec.Record(history.Event{Process: history.NemesisProcess, Type: history.Info, F: f, Value: value})
	if err != nil {
		return fmt.Errorf("nemesis: %w", err)
	}
	return nil
}

// sleepCtx sleeps for d, or returns false early when ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
