package nemesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/runtime"
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
	active []*activeFault // started and not ended, oldest first
	damage damage
	// lastSeq numbers the faults started; acting is the number of the
	// fault whose start (or strobe) runs now, so the damage it marks is
	// its own. Both only change with opMu held.
	lastSeq, acting int
}

// activeFault is a fault whose start is recorded and whose end is not.
type activeFault struct {
	f        fault
	startErr error // the fault may be only partly in place
}

// damage is every effect of the nemesis that is not undone yet. It is
// marked before an action is tried, so an action that timed out (and may
// have happened) is undone too. Each mark names the fault that made it (its
// seq), so that ending one of several overlapping faults undoes its own
// damage and leaves the others'.
type damage struct {
	partitioned bool
	membership  bool // a membership change may be unfinished
	// nodes holds, per damage set, the nodes in that state and the fault
	// that put them there: the shared sets below, and those of kinds that
	// keep damage of their own (sweeper).
	nodes map[damageSet]map[string]int
	// grudges are the partitions in place, per fault; the cluster's grudge
	// is their union.
	grudges map[int]runtime.Grudge
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
	p := newPlanner(opt, env.Cluster.Nodes())
	_, reach := env.Cluster.(runtime.DataDirs)
	p.noDataDirs = !reach
	return &Nemesis{
		env:    env,
		opt:    opt,
		log:    env.logger().With("component", "nemesis"),
		plan:   p,
		damage: damage{nodes: map[damageSet]map[string]int{}, grudges: map[int]runtime.Grudge{}},
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
	if !n.opt.playsFaults() {
		<-ctx.Done()
		return nil
	}
	if n.opt.Concurrent > 1 {
		return n.runLanes(ctx) // overlap.go
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

// step plays one fault (or one composite): plan, start, hold, end.
func (n *Nemesis) step(ctx context.Context) error {
	v := currentView(ctx, n.env)
	if ctx.Err() != nil {
		return nil // the run is over: start nothing new
	}
	n.opMu.Lock()
	faults, ok := n.plan.nextPlay(v)
	n.opMu.Unlock()
	if !ok {
		n.log.Info("no fault applies to the cluster as it is; staying quiet",
			"nemesis", n.selection().String(), "nodes", v.nodes, "voters", v.voters)
		return nil
	}
	return n.play(ctx, faults, n.opt.Interval)
}

func (n *Nemesis) selection() Selection {
	return Selection{Kinds: n.opt.Kinds, Modes: n.opt.Modes, Composites: n.opt.Composites}
}

// play starts faults in order, holds them for d (or until ctx is done) and
// ends them in reverse order, each with its own start and end event. Every
// fault started is ended before play returns, even when ctx is done.
func (n *Nemesis) play(ctx context.Context, faults []fault, d time.Duration) error {
	var (
		started []*activeFault
		err     error
	)
	for _, f := range faults {
		if ctx.Err() != nil && len(started) > 0 {
			break
		}
		var a *activeFault
		if a, err = n.start(ctx, f); err != nil {
			break
		}
		started = append(started, a)
	}
	if err == nil {
		n.holdAll(ctx, started, d)
	}
	healCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healTimeout)
	defer cancel()
	n.opMu.Lock()
	defer n.opMu.Unlock()
	for i := len(started) - 1; i >= 0; i-- {
		err = errors.Join(err, n.endLocked(healCtx, started[i], ""))
	}
	return err
}

// start records the start event and puts the fault in place.
func (n *Nemesis) start(ctx context.Context, f fault) (*activeFault, error) {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if err := n.record(string(f.Kind)+"-start", f.eventValue()); err != nil {
		return nil, err
	}
	n.lastSeq++
	f.seq = n.lastSeq
	a := &activeFault{f: f}
	n.mu.Lock()
	n.active = append(n.active, a)
	n.mu.Unlock()
	n.log.Info("fault start", "fault", f.String())
	n.acting = f.seq
	defer func() { n.acting = 0 }()
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

// holdAll keeps the faults in place for d or until ctx is done; a fault
// whose kind acts during its hold (holder) does so meanwhile.
func (n *Nemesis) holdAll(ctx context.Context, as []*activeFault, d time.Duration) {
	var wg sync.WaitGroup
	for _, a := range as {
		if h, ok := kindOf(a.f.Kind).(holder); ok {
			wg.Go(func() { h.hold(ctx, n, a, d) })
		}
	}
	sleepCtx(ctx, d)
	wg.Wait()
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

// markNode records that node id is in damage set, put there by the fault
// being started; unmarkNode undoes it once healed. Called with opMu held.
func (n *Nemesis) markNode(set damageSet, id string) {
	owner := n.acting
	n.mark(func(d *damage) {
		if d.nodes[set] == nil {
			d.nodes[set] = map[string]int{}
		}
		d.nodes[set][id] = owner
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

// healable lists, sorted, the nodes in damage set that ending f may undo:
// those f put there, and those no active fault other than f claims (left
// over by an earlier failed heal).
func (n *Nemesis) healable(set damageSet, f fault) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for id, owner := range n.damage.nodes[set] {
		if owner == f.seq || !n.activeSeqLocked(owner, f.seq) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// activeSeqLocked reports whether a fault other than except with number
// seq is active. Called with mu held.
func (n *Nemesis) activeSeqLocked(seq, except int) bool {
	return seq != except && slices.ContainsFunc(n.active, func(a *activeFault) bool { return a.f.seq == seq })
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
