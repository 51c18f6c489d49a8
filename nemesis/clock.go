package nemesis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// Clock skews the clocks of nodes through the system's clock endpoint: a
// jump, a strobe or a rate skew within the lease safety bound.
const Clock Kind = "clock"

type clockKind struct{}

func (clockKind) name() Kind { return Clock }

func (clockKind) needs() Needs {
	return Needs{System: []system.Capability{system.ClockSkew}}
}

func (clockKind) modes(p *planner, v view) []string {
	n := len(v.nodes)
	if n == 0 {
		return nil
	}
	m := []string{ClockBump, ClockStrobe}
	if slow, fast := RateBounds(p.maxDrift); slow < fast {
		m = append(m, ClockSkew)
		// The composite partitions too, so it is played only when
		// partitions were asked for, as a kind or as this mode.
		if v.leader != "" && n >= 3 && (slices.Contains(p.kinds, Partition) || p.asked(Clock, ClockSkewIsolateLeader)) {
			m = append(m, ClockSkewIsolateLeader)
		}
	}
	return m
}

func (clockKind) plan(p *planner, mode string, v view) fault { return p.clock(mode, v) }

func (clockKind) start(ctx context.Context, n *Nemesis, f fault) error {
	if err := n.setClocks(ctx, f, 1); err != nil || f.Grudge == nil {
		return err
	}
	return n.cut(ctx, f.Grudge)
}

func (clockKind) heal(ctx context.Context, n *Nemesis, f fault) error {
	if f.Grudge != nil {
		if err := n.uncut(ctx, f); err != nil {
			return errors.Join(err, n.resetClocks(ctx, f.Targets))
		}
	}
	return n.resetClocks(ctx, f.Targets)
}

// value: {"mode", "offsets", "rates"}, the strobe's "flips", and the
// composite's "groups" and "grudge".
func (clockKind) value(f fault) map[string]any {
	v := map[string]any{"mode": f.Mode, "offsets": f.OffsetsMs, "rates": f.Rates}
	if f.Flips > 0 {
		v["flips"] = f.Flips
	}
	if f.Grudge != nil {
		v["groups"] = f.Groups
		v["grudge"] = f.Grudge
	}
	return v
}

func (clockKind) describe(f fault) string {
	parts := make([]string, 0, len(f.Targets))
	for _, t := range f.Targets {
		parts = append(parts, fmt.Sprintf("%s %+dms x%.4f", t, f.OffsetsMs[t], f.Rates[t]))
	}
	desc := fmt.Sprintf("clock %s %s", f.Mode, strings.Join(parts, ", "))
	if f.Groups != nil {
		desc += " + partition " + groupsString(f.Groups)
	}
	return desc
}

// hold keeps the fault for d; a strobe flips its offsets meanwhile.
func (clockKind) hold(ctx context.Context, n *Nemesis, a *activeFault, d time.Duration) {
	if a.f.Flips == 0 {
		return // holdAll waits out d
	}
	period := d / time.Duration(a.f.Flips+1)
	sign := int64(1)
	for range a.f.Flips {
		if !sleepCtx(ctx, period) {
			return
		}
		sign = -sign
		n.opMu.Lock()
		if n.isActive(a) {
			n.acting = a.f.seq
			if err := n.setClocks(ctx, a.f, sign); err != nil {
				n.log.Warn("clock strobe flip failed", "err", err)
			}
			n.acting = 0
		}
		n.opMu.Unlock()
	}
}

func (p *planner) clock(mode string, v view) fault {
	f := fault{Kind: Clock, Mode: mode, OffsetsMs: map[string]int64{}, Rates: map[string]float64{}}
	switch mode {
	case ClockSkewIsolateLeader:
		slow, fast := RateBounds(p.maxDrift)
		for _, id := range v.nodes {
			f.Rates[id], f.OffsetsMs[id] = fast, 0
		}
		f.Rates[v.leader] = slow
		f.Targets = slices.Clone(v.nodes)
		f.Groups = IsolateGroups(v.nodes, v.leader)
		f.Grudge = GroupsGrudge(f.Groups)
		return f
	case ClockSkew:
		// Every node is skewed: a random non-empty proper share runs at the
		// slowest allowed rate, the rest at the fastest, so the worst pair
		// sits exactly at the bound.
		slow, fast := RateBounds(p.maxDrift)
		order := p.shuffled(v.nodes)
		nSlow := 1 + p.rng.IntN(max(1, len(order)-1))
		for i, id := range order {
			f.Rates[id] = fast
			if i < nSlow {
				f.Rates[id] = slow
			}
			f.OffsetsMs[id] = 0
		}
		f.Targets = slices.Sorted(maps.Keys(f.Rates))
		return f
	case ClockStrobe:
		f.Flips = minStrobeFlips + p.rng.IntN(maxStrobeFlips-minStrobeFlips+1)
	}
	size := 1 + p.rng.IntN(len(v.nodes))
	f.Targets = p.shuffled(v.nodes)[:size]
	slices.Sort(f.Targets)
	for _, id := range f.Targets {
		f.OffsetsMs[id] = randomOffsetMs(p.rng)
		f.Rates[id] = 1
	}
	return f
}

// setClocks skews the clocks of f's targets; sign flips the offsets (a
// strobe alternates between 1 and -1).
func (n *Nemesis) setClocks(ctx context.Context, f fault, sign int64) error {
	var errs []error
	for _, id := range f.Targets {
		n.markNode(setSkewed, id)
		if err := n.env.Admin.SetClock(ctx, id, sign*f.OffsetsMs[id], f.Rates[id]); err != nil {
			errs = append(errs, fmt.Errorf("clock of %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// resetClocks sets offset 0 and rate 1 on the given nodes, retrying a node
// that does not answer at once.
func (n *Nemesis) resetClocks(ctx context.Context, ids []string) error {
	syncAdmin(n.env)
	var errs []error
	for _, id := range ids {
		err := retryReset(ctx, func() error { return n.env.Admin.SetClock(ctx, id, 0, 1) })
		if err != nil {
			errs = append(errs, fmt.Errorf("reset clock of %s: %w", id, err))
			continue
		}
		n.unmarkNode(setSkewed, id)
	}
	return errors.Join(errs...)
}

// Clock fault modes.
const (
	ClockBump   = "bump"   // some nodes jump ahead or behind
	ClockStrobe = "strobe" // some nodes' offsets flip sign several times during the hold
	ClockSkew   = "skew"   // some nodes run slow, the others fast
	// ClockSkewIsolateLeader runs the leader's clock at the slowest allowed
	// rate and every other clock at the fastest, then cuts the leader off
	// from the rest: the one moment a lease is tested, a deposed leader
	// whose lease must run out before a new leader can be elected. Planned
	// only when partitions are among the requested kinds.
	ClockSkewIsolateLeader = "skew-isolate-leader"
)

// Offsets are drawn from ±[minOffsetMs, maxOffsetMs]: small enough to stay
// within an election timeout's order of magnitude, large enough to matter
// against heartbeats and leases.
const (
	minOffsetMs = 100
	maxOffsetMs = 2000
)

// strobeFlips is the range of sign flips of a strobe during one hold.
const (
	minStrobeFlips = 4
	maxStrobeFlips = 10
)

// RateBounds returns the slowest and fastest clock rates the nemesis sets for
// a maximum clock drift d (raftd's --max-clock-drift, as a fraction):
// 1/sqrt(1/(1-d)) and sqrt(1/(1-d)), so that the ratio between any two
// nodes' rates is at most 1/(1-d).
//
// Why this bound: a leader lease is safe only if the leader's lease expires,
// in real time, before any follower's election timeout can run out. raftd
// shortens the lease by the factor (1-d) for exactly this reason, which
// covers two clocks whose rates differ by up to a factor 1/(1-d) and no
// more. Skewing rates beyond that would make a correct lease unsafe by
// design, and a stale read found that way would be the nemesis's fault,
// not a bug in the system under test. With d outside (0, 1) rate skew is
// off and both bounds are 1.
func RateBounds(maxDrift float64) (slow, fast float64) {
	if !(maxDrift > 0 && maxDrift < 1) {
		return 1, 1
	}
	fast = math.Sqrt(1 / (1 - maxDrift))
	return 1 / fast, fast
}

// randomOffsetMs draws an offset in ±[minOffsetMs, maxOffsetMs].
func randomOffsetMs(rng *rand.Rand) int64 {
	off := int64(minOffsetMs + rng.IntN(maxOffsetMs-minOffsetMs+1))
	if rng.IntN(2) == 0 {
		off = -off
	}
	return off
}
