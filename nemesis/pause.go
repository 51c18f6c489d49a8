package nemesis

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Pause freezes nodes (SIGSTOP or the cgroup freezer) and resumes them when
// the fault ends: a node that stops without crashing.
const Pause Kind = "pause"

type pauseKind struct{}

func (pauseKind) name() Kind                        { return Pause }
func (pauseKind) needs() Needs                      { return Needs{Runtime: []RuntimeOp{OpPause}} }
func (pauseKind) modes(_ *planner, v view) []string { return targetModes(v) }

func (pauseKind) plan(p *planner, mode string, v view) fault {
	return fault{Kind: Pause, Mode: mode, Targets: p.targets(mode, v)}
}

func (pauseKind) start(ctx context.Context, n *Nemesis, f fault) error {
	var errs []error
	for _, id := range f.Targets {
		n.markNode(setPaused, id)
		if err := n.env.Cluster.Pause(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("pause %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func (pauseKind) heal(ctx context.Context, n *Nemesis, f fault) error {
	return n.resumePaused(ctx, n.healable(setPaused, f))
}
func (pauseKind) value(f fault) map[string]any { return targetsValue(f) }

func (pauseKind) describe(f fault) string {
	return fmt.Sprintf("pause %s %s", f.Mode, strings.Join(f.Targets, " "))
}

// resumePaused resumes the given paused nodes.
func (n *Nemesis) resumePaused(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		if err := n.env.Cluster.Resume(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("resume %s: %w", id, err))
			continue
		}
		n.unmarkNode(setPaused, id)
	}
	return errors.Join(errs...)
}

// overlap: a second pause hits nodes still up (liveViewLocked).
func (pauseKind) overlap() Overlap { return OverlapSameKind }
