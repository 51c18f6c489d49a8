package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/sut/runtime"
)

// healTimeout bounds the healing of one fault and of HealAll when the
// caller's context is already done: healing must finish even after Ctrl-C.
const healTimeout = 2 * time.Minute

// endLocked heals a (if it is still active) and records its end. healedBy
// says who ended it when it was not Run. Called with opMu held.
func (n *Nemesis) endLocked(ctx context.Context, a *activeFault, healedBy string) error {
	if !n.isActive(a) {
		return nil
	}
	err := n.heal(ctx, a.f)
	if err != nil {
		n.log.Warn("fault heal failed; HealAll will retry", "fault", a.f.String(), "err", err)
	} else {
		n.log.Info("fault end", "fault", a.f.String())
	}
	v := a.f.eventValue()
	if healedBy != "" {
		v["healed_by"] = healedBy
	}
	if a.startErr != nil {
		v["start_error"] = a.startErr.Error()
	}
	if err != nil {
		v["error"] = err.Error()
	}
	n.mu.Lock()
	n.active = slices.DeleteFunc(n.active, func(x *activeFault) bool { return x == a })
	n.mu.Unlock()
	return n.record(string(a.f.Kind)+"-end", v)
}

// heal undoes f through its kind (every tracked node of that kind, so a
// leftover from an earlier failed heal goes too); HealAll is the sweep that
// undoes every kind.
func (n *Nemesis) heal(ctx context.Context, f fault) error {
	fk := kindOf(f.Kind)
	if fk == nil {
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	return fk.heal(ctx, n, f)
}

// cut partitions the cluster by g on behalf of the fault being started
// (replacing that fault's earlier grudge), marking the damage first. With
// overlapping faults the cluster drops what any of their grudges drops.
func (n *Nemesis) cut(ctx context.Context, g runtime.Grudge) error {
	owner := n.acting
	var union runtime.Grudge
	n.mark(func(d *damage) {
		d.partitioned = true
		d.grudges[owner] = g
		union = unionGrudge(d.grudges)
	})
	return n.env.Cluster.Partition(ctx, union)
}

// uncut lifts f's partition, keeping those of the other active faults, and
// any left over by an earlier failed heal of f.
func (n *Nemesis) uncut(ctx context.Context, f fault) error {
	var rest runtime.Grudge
	n.mu.Lock()
	for owner := range n.damage.grudges {
		if owner == f.seq || !n.activeSeqLocked(owner, f.seq) {
			delete(n.damage.grudges, owner)
		}
	}
	if len(n.damage.grudges) > 0 {
		rest = unionGrudge(n.damage.grudges)
	}
	n.mu.Unlock()
	if rest == nil {
		return n.healPartitions(ctx)
	}
	if err := n.env.Cluster.Partition(ctx, rest); err != nil {
		return fmt.Errorf("lift the partition of %s: %w", f, err)
	}
	return nil
}

// healPartitions removes every partition rule, whoever made it.
func (n *Nemesis) healPartitions(ctx context.Context) error {
	if err := n.env.Cluster.Heal(ctx); err != nil {
		return fmt.Errorf("heal partitions: %w", err)
	}
	n.mark(func(d *damage) {
		d.partitioned = false
		clear(d.grudges)
	})
	return nil
}

// unionGrudge is the grudge that drops what any of gs drops.
func unionGrudge(gs map[int]runtime.Grudge) runtime.Grudge {
	u := runtime.Grudge{}
	for _, g := range gs {
		for dst, srcs := range g {
			for _, src := range srcs {
				if !slices.Contains(u[dst], src) {
					u[dst] = append(u[dst], src)
				}
			}
		}
	}
	for dst := range u {
		slices.Sort(u[dst])
	}
	return u
}

// clockResetAttempts covers a node that is still starting after a restart.
const (
	clockResetAttempts = 5
	clockResetBackoff  = 300 * time.Millisecond
)

// HealAll undoes everything, whatever happened: it ends every active fault,
// removes every partition rule, resumes paused and restarts killed nodes,
// lets each kind with damage of its own sweep it (sweeper), resets the clock of every node (offset 0, rate 1) and, unless the
// last membership change was verified complete, finishes or undoes it
// so that every running node is a member and the voters are within
// [3, MaxNodes]. It records a "heal" event listing what it did. It is safe
// to call any number of times and from any goroutine; when ctx is already
// done it works under a fresh bounded context instead, so a cancelled
// campaign still heals. Stop Run (cancel its context) before calling it,
// or Run may start a new fault afterwards.
func (n *Nemesis) HealAll(ctx context.Context) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), healTimeout)
		defer cancel()
	}
	n.opMu.Lock()
	defer n.opMu.Unlock()

	var (
		actions = []string{}
		errs    []error
	)
	n.mu.Lock()
	active := slices.Clone(n.active)
	n.mu.Unlock()
	for _, a := range active {
		actions = append(actions, "ended "+a.f.String())
		if err := n.endLocked(ctx, a, "heal-all"); err != nil {
			return err // the history cannot be written: nothing more to record
		}
	}
	step := func(what string, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		actions = append(actions, what)
	}
	step("healed partitions", n.healPartitions(ctx))
	if paused := n.nodesIn(setPaused); len(paused) > 0 {
		step(fmt.Sprintf("resumed %v", paused), n.resumePaused(ctx, paused))
	}
	if killed := n.nodesIn(setKilled); len(killed) > 0 {
		step(fmt.Sprintf("restarted %v", killed), n.restartKilled(ctx, killed))
	}
	for _, fk := range registry {
		if sw, ok := fk.(sweeper); ok {
			did, err := sw.sweep(ctx, n)
			actions = append(actions, did...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	all := n.env.Cluster.Nodes()
	slices.Sort(all)
	step(fmt.Sprintf("reset clocks of %v", all), n.resetClocks(ctx, all))
	if slowed := n.nodesIn(setSlowed); len(slowed) > 0 {
		step(fmt.Sprintf("reset slowness of %v", slowed), n.resetSlow(ctx, slowed))
	}
	n.mu.Lock()
	churned := n.damage.membership
	n.mu.Unlock()
	if churned {
		did, err := n.reconcileMembership(ctx)
		actions = append(actions, did...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	err := errors.Join(errs...)
	v := map[string]any{"actions": actions}
	if err != nil {
		v["error"] = err.Error()
		n.log.Warn("heal-all incomplete", "err", err)
	}
	if rerr := n.record("heal", v); rerr != nil {
		return errors.Join(err, rerr)
	}
	if err != nil {
		return fmt.Errorf("nemesis: heal-all: %w", err)
	}
	return nil
}

// retryReset calls reset until it succeeds, clockResetAttempts times at most
// with clockResetBackoff in between: a node that has just restarted or
// resumed may not answer its first /fault call.
func retryReset(ctx context.Context, reset func() error) error {
	var err error
	for attempt := range clockResetAttempts {
		if attempt > 0 && !sleepCtx(ctx, clockResetBackoff) {
			break
		}
		if err = reset(); err == nil {
			break
		}
	}
	return err
}
