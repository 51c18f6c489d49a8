package campaign

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/system"
	"github.com/faultline/faultline/workload"
)

// runPhase runs the workload and the nemesis side by side for --duration.
// It returns the campaign status and, for store.StatusError, why.
func (c *campaign) runPhase(ctx context.Context) (string, error) {
	runCtx, cancel := context.WithTimeout(ctx, c.opt.Duration)
	defer cancel()
	c.phaseMu.Lock()
	c.runStart = time.Now()
	c.phaseMu.Unlock()
	c.setPhase(PhaseRunning)
	c.log.Info("workload and nemesis running", "duration", c.opt.Duration, "workload", c.opt.Workload, "nemesis", c.opt.Nemesis)

	addrs := func() map[string]string { return clusterAddrs(c.cluster) }
	var wg sync.WaitGroup
	var workErr, nemErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		workErr = guard("workload", func() error { return workload.Run(runCtx, c.wcfg, addrs, c.rec) })
		if workErr != nil && runCtx.Err() == nil {
			cancel() // no workload, no point faulting on
		}
	}()
	go func() {
		defer wg.Done()
		nemErr = guard("nemesis", func() error { return c.nem.Run(runCtx) })
		if nemErr != nil && runCtx.Err() == nil {
			cancel()
		}
	}()
	wg.Wait()

	var errs []error
	for _, e := range []error{workErr, nemErr} {
		if e != nil && !errors.Is(e, context.Canceled) && !errors.Is(e, context.DeadlineExceeded) {
			errs = append(errs, e)
		}
	}
	switch {
	case len(errs) > 0:
		err := errors.Join(errs...)
		c.log.Error("campaign failed while running; healing and checking what was recorded", "err", err)
		return store.StatusError, err
	case ctx.Err() != nil:
		c.log.Warn("campaign interrupted; healing and checking what was recorded")
		return store.StatusInterrupted, nil
	}
	return store.StatusComplete, nil
}

// finish heals, waits for recovery, reads every key once more and closes
// the cluster. It runs detached from ctx so that Ctrl-C cannot skip it.
func (c *campaign) finish(ctx context.Context, stopPoller func()) {
	base := context.WithoutCancel(ctx)

	c.setPhase(PhaseHealing)
	hctx, cancel := context.WithTimeout(base, healTimeout)
	if err := guard("heal", func() error { return c.nem.HealAll(hctx) }); err != nil {
		c.log.Error("healing failed; closing the cluster heals what remains", "err", err)
		c.updateManifest(func(m *store.Manifest) { m.Error = joinMsg(m.Error, "heal: "+err.Error()) })
	}
	cancel()

	c.setPhase(PhaseRecovering)
	rctx, cancel := context.WithTimeout(base, c.opt.RecoveryTimeout+5*time.Second)
	if err := guard("recovery", func() error { return c.waitRecovery(rctx) }); err != nil {
		c.log.Warn("cluster did not recover; final reads may fail", "bound", c.opt.RecoveryTimeout, "err", err)
		c.updateManifest(func(m *store.Manifest) { m.Recovery = err.Error() })
	} else {
		c.log.Info("cluster recovered")
	}
	cancel()

	c.setPhase(PhaseFinalReads)
	fctx, cancel := context.WithTimeout(base, finalReadsBound(c.opt))
	addrs := func() map[string]string { return clusterAddrs(c.cluster) }
	if err := guard("final reads", func() error { return workload.FinalReads(fctx, c.wcfg, addrs, c.rec) }); err != nil {
		c.log.Warn("final reads incomplete; lost commits may go unnoticed", "err", err)
		c.updateManifest(func(m *store.Manifest) { m.Error = joinMsg(m.Error, "final reads: "+err.Error()) })
	}
	cancel()

	stopPoller()
	c.closeCluster()
}

// finalReadsBound leaves every key a few attempts at the request timeout.
func finalReadsBound(o Options) time.Duration {
	d := time.Duration(o.Keys) * 3 * o.RequestTimeout
	if d < 10*time.Second {
		d = 10 * time.Second
	}
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d
}

// closeCluster closes the cluster (healing what remains and collecting the
// node logs) on a fresh bounded context.
func (c *campaign) closeCluster() {
	c.setPhase(PhaseClosing)
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := c.cluster.Close(ctx); err != nil {
		c.log.Error("closing the cluster; run `checker gc` to remove leftovers", "err", err)
		c.updateManifest(func(m *store.Manifest) { m.Error = joinMsg(m.Error, "close: "+err.Error()) })
	}
}

// checkHistory checks what was recorded and writes results.json and keys/.
func (c *campaign) checkHistory(out *Outcome) {
	c.setPhase(PhaseChecking)
	if err := c.rec.Close(); err != nil {
		c.log.Error("closing history.jsonl", "err", err)
	}
	// Whatever was read is still checked: nothing recorded is lost.
	res, _, err := CheckRun(c.runDir, check.Options{Workload: c.opt.Workload, Timeout: c.opt.CheckTimeout, MemoryBudget: int64(c.opt.CheckMemory)}, true)
	if err != nil {
		out.CheckErr = err
		c.log.Error("checking the history", "err", err)
		c.updateManifest(func(m *store.Manifest) { m.Error = joinMsg(m.Error, "check: "+err.Error()) })
	}
	if res == nil {
		return
	}
	out.Result = res
	c.log.Info("checked", "verdict", res.Valid.String(), "anomalies", len(res.Anomalies), "ops", res.Stats.Ops)
}

// waitLeader waits until a node says it leads, up to --recovery-timeout
// (at least leaderWaitDefault).
func (c *campaign) waitLeader(ctx context.Context) error {
	bound := max(c.opt.RecoveryTimeout, leaderWaitDefault)
	if !c.sys.Capabilities().Has(system.Status) {
		return c.waitRead(ctx, bound)
	}
	deadline := time.Now().Add(bound)
	for {
		if id, term := c.poller.Leader(); id != "" {
			c.log.Info("leader elected", "leader", id, "term", term, "after", time.Since(c.started).Round(time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no node became leader within %s (see nodes/status.jsonl and the node logs)", bound)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for a leader: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitRecovery waits for the cluster to agree on a leader and catch up,
// through the status of every node; a system without status is taken to
// have recovered once a linearizable read succeeds.
func (c *campaign) waitRecovery(ctx context.Context) error {
	if c.sys.Capabilities().Has(system.Status) {
		return nemesis.WaitRecovery(ctx, c.env, c.opt.RecoveryTimeout)
	}
	return c.waitRead(ctx, c.opt.RecoveryTimeout)
}

// waitRead stands in for the leader wait on a system that reports no
// status: it reads the first key until a read succeeds. The probe is not
// recorded; it changes nothing.
func (c *campaign) waitRead(ctx context.Context, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	cl := c.sys.NewClient(clusterAddrs(c.cluster), system.ClientOptions{Timeout: c.opt.RequestTimeout, ClientID: "probe", MaxAttempts: 3})
	defer cl.Close()
	key := workload.Config{Keys: 1}.KeyNames()[0]
	for {
		_, _, _, err := cl.Read(ctx, key, false)
		if err == nil {
			c.log.Info("cluster serves (read succeeded)", "after", time.Since(c.started).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no read of %s succeeded within %s (system %s reports no status): %v", key, bound, c.sys.Name(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
