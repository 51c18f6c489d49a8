package nemesis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/system"
)

// Slow makes nodes slow through the system's slow-down endpoint: their
// disk, state machine or network (raftd's POST /fault/slow).
const Slow Kind = "slow"

type slowKind struct{}

func (slowKind) name() Kind { return Slow }

func (slowKind) needs() Needs {
	return Needs{System: []system.Capability{system.SlowDown}}
}

func (slowKind) modes(p *planner, v view) []string                    { return p.slowModes(v) }
func (slowKind) plan(p *planner, mode string, v view) fault           { return p.slow(mode, v) }
func (slowKind) start(ctx context.Context, n *Nemesis, f fault) error { return n.applySlow(ctx, f) }
func (slowKind) heal(ctx context.Context, n *Nemesis, f fault) error  { return n.healSlow(ctx, f) }
func (slowKind) value(f fault) map[string]any                         { return f.slowEventValue() }
func (slowKind) describe(f fault) string                              { return f.slowString() }

// Slow-node fault modes (raftd's POST /fault/slow). A slow node is alive and
// answers, which is what makes it dangerous: a node whose disk, state
// machine or network lags is still elected, still acknowledges and still
// serves reads.
const (
	SlowDisk  = "disk"  // some nodes fsync slowly
	SlowApply = "apply" // some nodes' state machines lag behind their commit index
	SlowNet   = "net"   // some nodes send every peer message late
	// SlowApplyIsolateLeader delays the state machine of every follower,
	// then cuts the leader off: the new leader's state machine is behind
	// the writes the old leader acknowledged, and a read must wait for it
	// to catch up with the read index (follower-read-no-wait does not).
	SlowApplyIsolateLeader = "apply-isolate-leader"
	// SlowDiskIsolateLeader slows every follower's disk, then cuts the
	// leader off: the new leader's no-op commits only after its and a
	// follower's slow fsync.
	SlowDiskIsolateLeader = "disk-isolate-leader"
	// SlowNetIsolateLeader delays every node's messages and every
	// follower's state machine, then cuts the leader off. The old leader's
	// last commit index dies in flight with its delayed messages, so the
	// new leader starts with a commit index behind writes already
	// acknowledged, and its no-op takes a slow round trip to commit: the
	// window in which a read must not be served at the stale commit index
	// (read-before-noop serves it). The state-machine lag keeps the writes
	// that commit with the no-op out of the answer to such a read, which
	// would otherwise race with them and mostly win.
	SlowNetIsolateLeader = "net-isolate-leader"
)

// Delay ranges in milliseconds, per mode. The disk and net delays stay well
// under raftd's election timeout (500-1000 ms by default), so heartbeats
// still arrive in time and the slowness does not turn into a crash. The
// apply delay of the composite outlasts an election (isolation, timeout,
// vote, no-op), so the new leader's state machine is still behind the old
// leader's last acknowledged writes when it starts serving.
const (
	minDiskMs, maxDiskMs                 = 50, 250
	minNetMs, maxNetMs                   = 100, 250
	minApplyMs, maxApplyMs               = 100, 2000
	minApplyIsolateMs, maxApplyIsolateMs = 1500, 3000
	// applyBeyondRoundTripMs is how much longer than a round trip at the
	// net delay the followers of net-isolate-leader lag in applying.
	applyBeyondRoundTripMs = 100
)

// slowModes lists the slow modes that make sense for v. The composites cut
// the leader off, so like the clock's skew-isolate-leader they are played
// only when partitions were asked for, as a kind or as the mode itself.
func (p *planner) slowModes(v view) []string {
	n := len(v.nodes)
	if n == 0 {
		return nil
	}
	m := []string{SlowDisk, SlowApply, SlowNet}
	if v.leader == "" || n < 3 {
		return m
	}
	for _, mode := range []string{SlowApplyIsolateLeader, SlowDiskIsolateLeader, SlowNetIsolateLeader} {
		if slices.Contains(p.kinds, Partition) || p.asked(Slow, mode) {
			m = append(m, mode)
		}
	}
	return m
}

// slow plans a slow-node fault: which nodes, which delays, and for the
// composites the partition that isolates the leader.
func (p *planner) slow(mode string, v view) fault {
	f := fault{Kind: Slow, Mode: mode, Delays: map[string]client.Slow{}}
	switch mode {
	case SlowApplyIsolateLeader, SlowDiskIsolateLeader, SlowNetIsolateLeader:
		d := p.drawDelay(mode)
		targets := minus(v.nodes, []string{v.leader})
		for _, id := range targets {
			f.Delays[id] = d
		}
		if mode == SlowNetIsolateLeader {
			// The leader too: its delayed messages carry the commit
			// index that the partition then loses.
			f.Delays[v.leader] = client.Slow{NetMs: d.NetMs}
			targets = slices.Clone(v.nodes)
		}
		f.Targets = targets
		f.Groups = IsolateGroups(v.nodes, v.leader)
		f.Grudge = GroupsGrudge(f.Groups)
		return f
	}
	size := 1 + p.rng.IntN(len(v.nodes))
	f.Targets = p.shuffled(v.nodes)[:size]
	slices.Sort(f.Targets)
	for _, id := range f.Targets {
		f.Delays[id] = p.drawDelay(mode)
	}
	return f
}

// drawDelay draws the delays one node gets under mode.
func (p *planner) drawDelay(mode string) client.Slow {
	var d client.Slow
	switch mode {
	case SlowDisk, SlowDiskIsolateLeader:
		d.FsyncMs = drawMs(p.rng, minDiskMs, maxDiskMs)
	case SlowApply:
		d.ApplyMs = drawMs(p.rng, minApplyMs, maxApplyMs)
	case SlowApplyIsolateLeader:
		d.ApplyMs = drawMs(p.rng, minApplyIsolateMs, maxApplyIsolateMs)
	case SlowNet:
		d.NetMs = drawMs(p.rng, minNetMs, maxNetMs)
	case SlowNetIsolateLeader:
		d.NetMs = drawMs(p.rng, minNetMs, maxNetMs)
		// Longer than the new leader's no-op round trip.
		d.ApplyMs = 2*d.NetMs + applyBeyondRoundTripMs
	}
	return d
}

// drawMs draws a delay in [lo, hi] milliseconds.
func drawMs(rng *rand.Rand, lo, hi int64) int64 { return lo + rng.Int64N(hi-lo+1) }

// applySlow slows f's targets, then, for a composite, isolates the leader.
// The targets are slowed first so the new leader is already slow when it is
// elected.
func (n *Nemesis) applySlow(ctx context.Context, f fault) error {
	var errs []error
	for _, id := range f.Targets {
		n.markNode(setSlowed, id)
		if err := n.env.Admin.SetSlow(ctx, id, f.Delays[id]); err != nil {
			errs = append(errs, fmt.Errorf("slow %s: %w", id, err))
		}
	}
	if err := errors.Join(errs...); err != nil || f.Grudge == nil {
		return err
	}
	return n.cut(ctx, f.Grudge)
}

// healSlow heals a slow fault: the partition first (so the cluster can
// reconverge while the delays drain), then the delays of its targets and of
// any node left slow by an earlier failed heal.
func (n *Nemesis) healSlow(ctx context.Context, f fault) error {
	var errs []error
	if f.Grudge != nil {
		errs = append(errs, n.uncut(ctx, f))
	}
	ids := slices.Sorted(maps.Keys(f.Delays))
	for _, id := range n.healable(setSlowed, f) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	errs = append(errs, n.resetSlow(ctx, ids))
	return errors.Join(errs...)
}

// resetSlow sets every delay of the given nodes back to zero, retrying a
// node that does not answer at once (it may be restarting; a restarted raftd
// starts with no delay anyway, but it must answer before it counts as
// healed).
func (n *Nemesis) resetSlow(ctx context.Context, ids []string) error {
	live := syncAdmin(n.env)
	var errs []error
	for _, id := range ids {
		if !slices.Contains(live, id) {
			// Deleted by a membership change: nothing left to heal.
			n.unmarkNode(setSlowed, id)
			continue
		}
		err := retryReset(ctx, func() error { return n.env.Admin.SetSlow(ctx, id, client.Slow{}) })
		if err != nil {
			errs = append(errs, fmt.Errorf("reset slowness of %s: %w", id, err))
			continue
		}
		n.unmarkNode(setSlowed, id)
	}
	return errors.Join(errs...)
}

// slowEventValue is the value of a slow fault's start and end events:
// {"mode", "delays": {id: {"fsync_ms", "apply_ms", "net_ms"}}} and, for a
// composite, the partition's "groups" and "grudge".
func (f fault) slowEventValue() map[string]any {
	v := map[string]any{"mode": f.Mode, "delays": f.Delays}
	if f.Grudge != nil {
		v["groups"] = f.Groups
		v["grudge"] = f.Grudge
	}
	return v
}

// slowString describes a slow fault: "slow apply n2 apply 1200ms, n3 apply
// 800ms", plus the partition of a composite.
func (f fault) slowString() string {
	parts := make([]string, 0, len(f.Delays))
	for _, id := range slices.Sorted(maps.Keys(f.Delays)) {
		d := f.Delays[id]
		var ds []string
		for _, x := range []struct {
			name string
			ms   int64
		}{{"fsync", d.FsyncMs}, {"apply", d.ApplyMs}, {"net", d.NetMs}} {
			if x.ms > 0 {
				ds = append(ds, fmt.Sprintf("%s %dms", x.name, x.ms))
			}
		}
		parts = append(parts, id+" "+strings.Join(ds, " "))
	}
	desc := fmt.Sprintf("slow %s %s", f.Mode, strings.Join(parts, ", "))
	if f.Groups != nil {
		desc += " + partition " + groupsString(f.Groups)
	}
	return desc
}
