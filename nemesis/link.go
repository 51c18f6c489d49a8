package nemesis

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/faultline/faultline/sut/runtime"
)

// Link disturbs peer links below the system under test, on directed links
// like a partition: bytes arrive late (delay, with jitter), stall or are
// reset (loss: what packet loss does to TCP), trickle (bandwidth), or stop
// and start many times a second (flaky). It needs nothing from the system,
// only a runtime that carries peer traffic through its own proxy
// (runtime.LinkFaulter: the process runtime's per-node proxy, or in Docker
// a forwarder inside each container, which a campaign asks for before the
// cluster starts: runtime.Spec.LinkFaults).
const Link Kind = "link"

// Modes of link.
const (
	LinkDelay     = "delay"
	LinkLoss      = "loss"
	LinkBandwidth = "bandwidth"
	LinkFlaky     = "flaky"
)

// Parameter ranges. Delays stay under raftd's election timeout (500-1000
// ms) so that a delayed link is slow, not cut; loss stalls for a typical
// TCP retransmission timeout; a flaky link is down for a few heartbeats at
// most, several times a second.
const (
	minLinkDelayMs, maxLinkDelayMs = 20, 200
	maxLinkJitterMs                = 100
	minLinkLossPct, maxLinkLossPct = 5, 30
	linkStallMs                    = 200
	maxLinkResetPct                = 5
	minLinkKBps, maxLinkKBps       = 4, 64
	minFlakyUpMs, maxFlakyUpMs     = 50, 250
	minFlakyDownMs, maxFlakyDownMs = 20, 120
	linkOneWayChance               = 3 // one fault in three hits only the links out of the targets
)

// OpLinkFaults is runtime.LinkFaulter (in Docker, a cluster started with
// runtime.Spec.LinkFaults).
const OpLinkFaults RuntimeOp = "link-faults"

// setLinked holds the nodes whose links a link fault disturbs.
const setLinked damageSet = "linked"

type linkKind struct{}

// linkPlan is a link fault's Params: the fault of every disturbed link.
type linkPlan struct {
	Faults runtime.LinkFaults
	OneWay bool // only the links out of the targets
}

func (linkKind) name() Kind   { return Link }
func (linkKind) needs() Needs { return Needs{Runtime: []RuntimeOp{OpLinkFaults}, OptIn: true} }

func (linkKind) modes(_ *planner, v view) []string {
	if len(v.nodes) < 2 {
		return nil
	}
	return []string{LinkDelay, LinkLoss, LinkBandwidth, LinkFlaky}
}

// plan picks one node up to a minority, one fault for the mode, and puts it
// on every link between them and the rest: both ways, or (one time in
// linkOneWayChance) only the links out of them.
func (linkKind) plan(p *planner, mode string, v view) fault {
	size := 1 + p.rng.IntN(max(1, (len(v.nodes)-1)/2))
	targets := p.shuffled(v.nodes)[:size]
	slices.Sort(targets)
	lf := drawLinkFault(p, mode)
	plan := &linkPlan{Faults: runtime.LinkFaults{}, OneWay: p.rng.IntN(linkOneWayChance) == 0}
	put := func(src, dst string) {
		if plan.Faults[dst] == nil {
			plan.Faults[dst] = map[string]runtime.LinkFault{}
		}
		plan.Faults[dst][src] = lf
	}
	for _, t := range targets {
		for _, other := range minus(v.nodes, targets) {
			put(t, other)
			if !plan.OneWay {
				put(other, t)
			}
		}
	}
	return fault{Kind: Link, Mode: mode, Targets: targets, Params: plan}
}

func drawLinkFault(p *planner, mode string) runtime.LinkFault {
	switch mode {
	case LinkDelay:
		return runtime.LinkFault{DelayMs: drawMs(p.rng, minLinkDelayMs, maxLinkDelayMs), JitterMs: drawMs(p.rng, 0, maxLinkJitterMs)}
	case LinkLoss:
		return runtime.LinkFault{LossPct: float64(drawMs(p.rng, minLinkLossPct, maxLinkLossPct)), StallMs: linkStallMs,
			ResetPct: float64(drawMs(p.rng, 0, maxLinkResetPct))}
	case LinkBandwidth:
		return runtime.LinkFault{BandwidthKBps: drawMs(p.rng, minLinkKBps, maxLinkKBps)}
	default:
		return runtime.LinkFault{FlakyUpMs: drawMs(p.rng, minFlakyUpMs, maxFlakyUpMs), FlakyDownMs: drawMs(p.rng, minFlakyDownMs, maxFlakyDownMs)}
	}
}

func linkFaulter(n *Nemesis) (runtime.LinkFaulter, error) {
	lf, ok := n.env.Cluster.(runtime.LinkFaulter)
	if !ok {
		return nil, fmt.Errorf("link: the runtime cannot disturb links (%T carries no peer traffic through a proxy of its own)", n.env.Cluster)
	}
	return lf, nil
}

func (linkKind) start(ctx context.Context, n *Nemesis, f fault) error {
	lf, err := linkFaulter(n)
	if err != nil {
		return err
	}
	for _, id := range f.Targets {
		n.markNode(setLinked, id)
	}
	return lf.SetLinkFaults(ctx, f.Params.(*linkPlan).Faults)
}

func (linkKind) heal(ctx context.Context, n *Nemesis, _ fault) error {
	_, err := healLinks(ctx, n)
	return err
}

// sweep heals the links that a failed heal left disturbed.
func (linkKind) sweep(ctx context.Context, n *Nemesis) ([]string, error) { return healLinks(ctx, n) }

// healLinks makes every link healthy again, if any was disturbed.
func healLinks(ctx context.Context, n *Nemesis) ([]string, error) {
	linked := n.nodesIn(setLinked)
	if len(linked) == 0 {
		return nil, nil
	}
	lf, err := linkFaulter(n)
	if err != nil {
		return nil, err
	}
	if err := lf.SetLinkFaults(ctx, nil); err != nil {
		return nil, fmt.Errorf("heal links: %w", err)
	}
	for _, id := range linked {
		n.unmarkNode(setLinked, id)
	}
	return []string{fmt.Sprintf("healed the links of %v", linked)}, nil
}

// value is {"mode", "nodes", "one_way", "links": {dst: {src: {delay_ms,
// jitter_ms, loss_pct, stall_ms, reset_pct, bandwidth_kbps, flaky_up_ms,
// flaky_down_ms}}}}: every parameter of every disturbed link.
func (linkKind) value(f fault) map[string]any {
	v := targetsValue(f)
	plan := f.Params.(*linkPlan)
	v["one_way"], v["links"] = plan.OneWay, plan.Faults
	return v
}

func (linkKind) describe(f fault) string {
	plan := f.Params.(*linkPlan)
	// Every link of a fault suffers the same; show one.
	var lf runtime.LinkFault
	if dsts := slices.Sorted(maps.Keys(plan.Faults)); len(dsts) > 0 {
		srcs := plan.Faults[dsts[0]]
		lf = srcs[slices.Sorted(maps.Keys(srcs))[0]]
	}
	dir := "to and from"
	if plan.OneWay {
		dir = "from"
	}
	return fmt.Sprintf("link %s %s %s the rest: %s", f.Mode, dir, strings.Join(f.Targets, " "), describeLinkFault(lf))
}

func describeLinkFault(lf runtime.LinkFault) string {
	var parts []string
	if lf.DelayMs > 0 || lf.JitterMs > 0 {
		parts = append(parts, fmt.Sprintf("delay %dms ±%dms", lf.DelayMs, lf.JitterMs))
	}
	if lf.LossPct > 0 {
		parts = append(parts, fmt.Sprintf("loss %.0f%% (stall %dms)", lf.LossPct, lf.StallMs))
	}
	if lf.ResetPct > 0 {
		parts = append(parts, fmt.Sprintf("reset %.0f%%", lf.ResetPct))
	}
	if lf.BandwidthKBps > 0 {
		parts = append(parts, fmt.Sprintf("%d KiB/s", lf.BandwidthKBps))
	}
	if lf.FlakyUpMs > 0 {
		parts = append(parts, fmt.Sprintf("up %dms down %dms", lf.FlakyUpMs, lf.FlakyDownMs))
	}
	return strings.Join(parts, ", ")
}
