package nemesis

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kill crashes nodes (SIGKILL or a container kill, data kept) and restarts
// them from their data when the fault ends.
const Kill Kind = "kill"

type killKind struct{}

func (killKind) name() Kind                        { return Kill }
func (killKind) needs() Needs                      { return Needs{Runtime: []RuntimeOp{OpKill}} }
func (killKind) modes(_ *planner, v view) []string { return targetModes(v) }

func (killKind) plan(p *planner, mode string, v view) fault {
	return fault{Kind: Kill, Mode: mode, Targets: p.targets(mode, v)}
}

func (killKind) start(ctx context.Context, n *Nemesis, f fault) error {
	var errs []error
	for _, id := range f.Targets {
		n.markNode(setKilled, id)
		if err := n.env.Cluster.Kill(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("kill %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func (killKind) heal(ctx context.Context, n *Nemesis, f fault) error {
	return n.restartKilled(ctx, n.healable(setKilled, f))
}
func (killKind) value(f fault) map[string]any { return targetsValue(f) }

func (killKind) describe(f fault) string {
	return fmt.Sprintf("kill %s %s", f.Mode, strings.Join(f.Targets, " "))
}

// restartKilled restarts the given killed nodes.
func (n *Nemesis) restartKilled(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		if err := n.env.Cluster.Restart(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("restart %s: %w", id, err))
			continue
		}
		n.unmarkNode(setKilled, id)
	}
	return errors.Join(errs...)
}

// overlap: a second kill hits nodes still up (liveViewLocked).
func (killKind) overlap() Overlap { return OverlapSameKind }
