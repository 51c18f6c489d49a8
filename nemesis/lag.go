package nemesis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/runtime"
)

// TopoLagIsolateLeader isolates the leader in two steps a few milliseconds
// apart: first a minority of its followers (the laggers) stop hearing it,
// then every follower does, while the leader still hears them all.
//
// Why: the entries the leader sent in between reach the other followers
// only, and the acknowledgements of those entries still reach the leader,
// which commits them and answers their clients. If the step is shorter than
// one replication round trip, no follower has learned that commit (the
// leader's next message carrying it is already dropped), so the laggers
// miss exactly the newest committed entries while holding everything the
// other followers know to be committed. An election now needs the log
// up-to-date check: a lagger that wins with a vote it should not get
// overwrites entries that were acknowledged. Isolating the leader in one
// step leaves every follower with the same log, and a lagger that lags by
// more than a round trip cannot overwrite anything the other followers know
// is committed (a follower refuses appends below its commit index), so
// neither exposes a vote granted against the log. For a correct cluster
// this is just a leader isolation.
const TopoLagIsolateLeader = "lag-isolate-leader"

// The step between the two cuts is drawn from [minLagStep, maxLagStep]: at
// least the time for an append already on its way to reach the followers,
// at most a replication round trip on loopback (two fsyncs and four
// socket hops, a few milliseconds on a loaded machine).
const (
	minLagStep = 500 * time.Microsecond
	maxLagStep = 4 * time.Millisecond
)

// lagModes offers lag-isolate-leader when a leader is known and there is a
// follower to lag and one to keep up (three nodes or more).
func (p *planner) lagModes(v view) []string {
	if v.leader == "" || len(v.nodes) < 3 || !slices.Contains(v.nodes, v.leader) {
		return nil
	}
	return []string{TopoLagIsolateLeader}
}

// lagIsolateLeader plans the fault: the laggers (a random minority of the
// followers, at least one), the step, and the final cut (every follower
// drops the leader's traffic; the leader still hears them, so
// acknowledgements already on their way are counted).
func (p *planner) lagIsolateLeader(v view) fault {
	followers := minus(v.nodes, []string{v.leader})
	laggers := p.shuffled(followers)[:max(1, (len(followers)-1)/2)]
	slices.Sort(laggers)
	step := minLagStep + time.Duration(p.rng.Int64N(int64(maxLagStep-minLagStep)+1))
	return fault{
		Kind: Partition, Mode: TopoLagIsolateLeader,
		Groups:  IsolateGroups(v.nodes, v.leader),
		Grudge:  dropFromGrudge(followers, v.leader),
		Targets: laggers,
		Step:    step,
	}
}

// dropFromGrudge: every node of dsts drops what src sends.
func dropFromGrudge(dsts []string, src string) runtime.Grudge {
	g := runtime.Grudge{}
	for _, d := range dsts {
		g[d] = []string{src}
	}
	return g
}

// applyLag puts a lag-isolate-leader fault in place: the laggers' cut, the
// step, then the final cut. The partition damage is marked before the first
// cut, so the usual partition heal undoes either stage.
func (n *Nemesis) applyLag(ctx context.Context, f fault) error {
	n.mark(func(d *damage) { d.partitioned = true })
	leader := f.Groups[0][0]
	if err := n.env.Cluster.Partition(ctx, dropFromGrudge(f.Targets, leader)); err != nil {
		return fmt.Errorf("cut %s from %s: %w", strings.Join(f.Targets, ","), leader, err)
	}
	// A busy wait would be more precise, but a sleep of a few milliseconds
	// is within the drawn range on an idle scheduler and the range is
	// chosen wide for that reason.
	sleepCtx(ctx, f.Step)
	return n.env.Cluster.Partition(ctx, f.Grudge)
}

// lagString describes a lag-isolate-leader fault.
func (f fault) lagString() string {
	return fmt.Sprintf("partition %s %s (%s cut %.1fms earlier)", f.Mode, groupsString(f.Groups),
		strings.Join(f.Targets, " "), float64(f.Step)/float64(time.Millisecond))
}
