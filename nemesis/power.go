package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/runtime/powerfs"
)

// Power cuts the power of nodes: each is killed and loses every write its
// disk had not fsynced (or, in the torn modes, a random suffix of them),
// then starts again on what was durable when the fault ends. A kill keeps
// the page cache; power does not, so it finds acknowledged writes that were
// never made durable. It needs nothing from the system under test, only
// data directories on powerfs (runtime.Spec.PowerLoss), which is why
// "all" leaves it out: it is played only when named.
const Power Kind = "power"

// Modes of power: which nodes lose power at once, and what their disks
// lose.
const (
	PowerOne          = "one"           // one node, every unsynced write lost
	PowerMajority     = "majority"      // a random majority at once (a rack)
	PowerAll          = "all"           // every node at once (a data centre)
	PowerOneTorn      = "one-torn"      // as one, each file keeping a random prefix of its unsynced writes
	PowerMajorityTorn = "majority-torn" // as majority, torn
	PowerAllTorn      = "all-torn"      // as all, torn
)

// OpPowerLoss is runtime.PowerFailer: a cluster started with
// runtime.Spec.PowerLoss (process runtime: powerfs served by the checker;
// docker: by cmd/faultinit inside each container).
const OpPowerLoss RuntimeOp = "power-loss"

type powerKind struct{}

// powerPlan is a power fault's Params: what the disks lose, the seed of
// the torn cuts, and (filled by start) what each node lost.
type powerPlan struct {
	Loss powerfs.Loss
	Seed uint64

	mu   sync.Mutex
	lost map[string][]powerfs.FileLoss
}

func (powerKind) name() Kind   { return Power }
func (powerKind) needs() Needs { return Needs{Runtime: []RuntimeOp{OpPowerLoss, OpKill}, OptIn: true} }

func (powerKind) modes(_ *planner, v view) []string {
	if len(v.nodes) == 0 {
		return nil
	}
	return []string{PowerOne, PowerMajority, PowerAll, PowerOneTorn, PowerMajorityTorn, PowerAllTorn}
}

func (powerKind) plan(p *planner, mode string, v view) fault {
	loss := powerfs.LoseUnsynced
	if strings.HasSuffix(mode, "-torn") {
		loss = powerfs.LoseTorn
	}
	var targets []string
	switch strings.TrimSuffix(mode, "-torn") {
	case PowerAll:
		targets = slices.Clone(v.nodes)
	case PowerMajority:
		targets = p.shuffled(v.nodes)[:len(v.nodes)/2+1]
		slices.Sort(targets)
	default:
		targets = []string{p.pick(v.nodes)}
	}
	return fault{Kind: Power, Mode: mode, Targets: targets,
		Params: &powerPlan{Loss: loss, Seed: p.rng.Uint64()}}
}

// start cuts every target's power at once.
func (powerKind) start(ctx context.Context, n *Nemesis, f fault) error {
	pf, ok := n.env.Cluster.(runtime.PowerFailer)
	if !ok {
		return fmt.Errorf("power: %w", runtime.ErrNoPowerLoss)
	}
	plan := f.Params.(*powerPlan)
	errs := make([]error, len(f.Targets))
	var wg sync.WaitGroup
	for i, id := range f.Targets {
		n.markNode(setKilled, id)
		wg.Go(func() {
			lost, err := pf.PowerFail(ctx, id, plan.Loss, plan.Seed+uint64(i))
			plan.mu.Lock()
			if plan.lost == nil {
				plan.lost = map[string][]powerfs.FileLoss{}
			}
			plan.lost[id] = lost
			plan.mu.Unlock()
			if err != nil {
				errs[i] = fmt.Errorf("power-fail %s: %w", id, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// heal brings the power back: the nodes f cut (and any no other active
// fault holds down) restart from their data, all at once, as a rack does
// when its power returns (in Docker a restart takes seconds, so one by one
// would hold a majority down several times longer than the fault).
func (powerKind) heal(ctx context.Context, n *Nemesis, f fault) error {
	ids := n.healable(setKilled, f)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			if err := n.env.Cluster.Restart(ctx, id); err != nil {
				errs[i] = fmt.Errorf("restart %s: %w", id, err)
				return
			}
			n.unmarkNode(setKilled, id)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// value is {"mode", "nodes", "loss", "seed"} and, once the power is cut,
// "lost": for each node the files that lost writes (path, dropped_ops,
// dropped_bytes, kept_bytes, torn).
func (powerKind) value(f fault) map[string]any {
	v := targetsValue(f)
	plan := f.Params.(*powerPlan)
	v["loss"], v["seed"] = plan.Loss, plan.Seed
	plan.mu.Lock()
	defer plan.mu.Unlock()
	if plan.lost != nil {
		lost := make(map[string][]powerfs.FileLoss, len(plan.lost))
		for id, l := range plan.lost {
			lost[id] = slices.Clone(l)
		}
		v["lost"] = lost
	}
	return v
}

func (powerKind) describe(f fault) string {
	return fmt.Sprintf("power %s %s", f.Mode, strings.Join(f.Targets, " "))
}

// NeedsRuntime reports whether a kind of sel needs runtime operation op,
// so that a campaign can ask the runtime for it before the cluster starts
// (OpPowerLoss: runtime.Spec.PowerLoss).
func (sel Selection) NeedsRuntime(op RuntimeOp) bool {
	kinds := slices.Clone(sel.Kinds)
	for _, c := range sel.Composites {
		for _, part := range c {
			kinds = append(kinds, part.Kind)
		}
	}
	for _, k := range kinds {
		if fk := kindOf(k); fk != nil && slices.Contains(fk.needs().Runtime, op) {
			return true
		}
	}
	return false
}
