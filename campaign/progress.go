package campaign

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/store"
)

// Phases of a campaign, in order. Finishing phases (healing onwards) run on
// every exit path once the cluster has started.
const (
	PhaseStarting   = "starting cluster"
	PhaseElection   = "waiting for a leader"
	PhaseRunning    = "running"
	PhaseHealing    = "healing"
	PhaseRecovering = "waiting for recovery"
	PhaseFinalReads = "final reads"
	PhaseClosing    = "closing cluster"
	PhaseChecking   = "checking"
	PhaseDone       = "done"
)

// Snapshot is what a progress display shows at one instant.
type Snapshot struct {
	RunDir  string
	Phase   string
	Elapsed time.Duration // since the workload started (0 before)
	Total   time.Duration // --duration
	// Client completions so far.
	Ok, Fail, Info int
	Fault          string // the nemesis' active fault, "" when none
	Leader         string // the node that last said it leads, "" when none
	Term           uint64
}

// Progress receives snapshots: at every phase change and about four times a
// second in between. Implementations must return quickly; Update is called
// from one goroutine at a time.
type Progress interface {
	Update(Snapshot)
}

// NoProgress discards snapshots.
type NoProgress struct{}

// Update implements Progress.
func (NoProgress) Update(Snapshot) {}

func (c *campaign) setPhase(p string) {
	c.phaseMu.Lock()
	c.phase = p
	c.phaseMu.Unlock()
	c.updateManifest(func(m *store.Manifest) {
		m.Phases = append(m.Phases, store.PhaseMark{Phase: p, AtNs: int64(time.Since(c.started))})
	})
	c.log.Debug("phase", "phase", p)
	c.report()
	// campaign.json follows the phases, so that a checker that dies
	// mid-run leaves an accurate record (runtime, cluster label, phase).
	if err := c.writeManifest(); err != nil {
		c.log.Warn("writing campaign.json", "err", err)
	}
}

// startProgress reports snapshots until the returned stop is called.
func (c *campaign) startProgress() (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.report()
			}
		}
	}()
	return func() { close(done); <-stopped; c.report() }
}

// report sends one snapshot. It is called from the progress goroutine and
// on phase changes, so it serialises on phaseMu.
func (c *campaign) report() {
	c.phaseMu.Lock()
	defer c.phaseMu.Unlock()
	if c.rec == nil {
		return
	}
	counts := c.rec.Counts()
	if c.firstOpAt == 0 && counts.FirstInvoke >= 0 {
		c.firstOpAt = counts.FirstInvoke + int64(c.rec.Start().Sub(c.started))
		c.updateManifest(func(m *store.Manifest) { m.FirstOpNs = c.firstOpAt })
		c.log.Info(fmt.Sprintf("first operation at %.2f s", time.Duration(c.firstOpAt).Seconds()))
	}
	s := Snapshot{RunDir: c.runDir, Phase: c.phase, Total: c.opt.Duration,
		Ok: counts.Ok, Fail: counts.Fail, Info: counts.Info}
	if !c.runStart.IsZero() {
		s.Elapsed = min(time.Since(c.runStart), c.opt.Duration)
	}
	if c.nem != nil {
		s.Fault = c.nem.Current()
	}
	if c.poller != nil {
		s.Leader, s.Term = c.poller.Leader()
	}
	c.progress.Update(s)
}
