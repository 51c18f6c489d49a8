package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/store"
)

// Progress hears about each campaign of a sweep as it starts and ends.
// Calls come from the sweep's goroutine, one at a time. A liveness bug's run
// is judged only once its baseline has run, so Finished then comes twice
// with the same n: for the baseline, then for the bug run, now judged.
type Progress interface {
	Started(n, of int, p PlannedRun)
	Finished(n, of int, r RunResult)
}

// NoProgress ignores the sweep's progress.
type NoProgress struct{}

// Started implements Progress.
func (NoProgress) Started(int, int, PlannedRun) {}

// Finished implements Progress.
func (NoProgress) Finished(int, int, RunResult) {}

// Sweep is a finished (or stopped) sweep.
type Sweep struct {
	Matrix *Matrix
	// Dir is store/sweeps/<timestamp>, holding sweep.json and index.html.
	Dir string
}

// Run runs every campaign of the plan, one after the other, judging each
// as it ends and rewriting sweep.json and index.html after every campaign,
// so a long sweep can be watched and an interrupted one keeps what it
// found. A cancelled ctx stops the running campaign the way Ctrl-C stops
// `checker run` (faults healed, what was recorded checked) and runs no
// more; the matrix then says the sweep stopped, which fails it.
//
// The error is non-nil only when the sweep could not start (bad options,
// the sweep directory could not be made). A campaign that cannot run at all
// is tried once more; if it fails again it is a run without a verdict,
// counted as not detected or not valid.
func Run(ctx context.Context, o Options, progress Progress) (*Sweep, error) {
	o = o.normalized()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if progress == nil {
		progress = NoProgress{}
	}
	plan, err := o.Plan()
	if err != nil {
		return nil, err
	}
	started := time.Now()
	dir, err := store.CreateSweep(o.Store, started)
	if err != nil {
		return nil, err
	}
	m := newMatrix(o, plan)
	m.Shard = o.Shard.String()
	m.StartedAt = started.UTC()
	m.Command = os.Args
	s := &Sweep{Matrix: m, Dir: dir}
	if err := s.write(); err != nil {
		return nil, err
	}
	if err := store.PointSweepLatest(o.Store, dir); err != nil {
		o.Log.Warn("could not point store/sweeps/latest at the sweep", "err", err)
	}

	for i, p := range plan {
		if ctx.Err() != nil {
			m.stop(fmt.Sprintf("interrupted (%v)", context.Cause(ctx)))
			break
		}
		progress.Started(i+1, len(plan), p)
		r, out := runOnce(ctx, p, o.Store)
		if r.Verdict == VerdictNone && ctx.Err() == nil {
			// The campaign could not run at all (say a container that
			// did not start): that is no evidence either way, so it gets
			// one more try; a second failure is what gets judged.
			o.Log.Warn("campaign could not run; trying once more", "campaign", r.Name, "seed", r.Seed, "err", r.Error)
			first := r
			r, out = runOnce(ctx, p, o.Store)
			r.FailedAttempt = first.RunDir
			r.Error = joinText(r.Error, "an earlier attempt could not run: "+first.Error)
		}
		if out != nil && out.Manifest.Runtime != "" && m.Runtime == "" {
			m.Runtime = out.Manifest.Runtime
		}
		m.add(r)
		if r.Status == store.StatusInterrupted && ctx.Err() != nil {
			// The campaign was cut short: it is recorded (its evidence
			// stands) but the sweep is not complete.
			m.stop(fmt.Sprintf("interrupted (%v)", context.Cause(ctx)))
		}
		progress.Finished(i+1, len(plan), m.last(r))
		if r.Role == RoleBaseline {
			// The baseline completes its bug run's judgement: report
			// that run again, now judged.
			progress.Finished(i+1, len(plan), m.last(RunResult{Role: RoleBug, Bug: r.Bug, Index: r.Index}))
		}
		if err := s.write(); err != nil {
			o.Log.Error("writing the sweep page", "dir", dir, "err", err)
		}
		if m.Stopped != "" {
			break
		}
	}
	now := time.Now().UTC()
	m.EndedAt = &now
	if err := s.write(); err != nil {
		return s, fmt.Errorf("writing the sweep page in %s: %w", dir, err)
	}
	return s, nil
}

// last returns r as judged inside the matrix (add judges a copy).
func (m *Matrix) last(r RunResult) RunResult {
	var runs []RunResult
	switch r.Role {
	case RoleControl:
		runs = m.Controls.Runs
	case RoleBaseline:
		runs = m.Bugs[m.rowIndex[r.Bug]].Baselines
	default:
		runs = m.Bugs[m.rowIndex[r.Bug]].Runs
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Index == r.Index {
			return runs[i]
		}
	}
	return r
}

// runOnce runs one planned campaign and turns its outcome into a result.
func runOnce(ctx context.Context, p PlannedRun, storeDir string) (RunResult, *campaign.Outcome) {
	t0 := time.Now()
	out, err := campaign.Run(ctx, p.Options, nil)
	return resultOf(p, storeDir, out, err, time.Since(t0)), out
}
