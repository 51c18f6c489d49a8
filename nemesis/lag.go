package nemesis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
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
//
// The two cuts must land closer together than a commit round trip, which a
// runtime that applies rules slowly (Docker: one exec per container, tens of
// milliseconds apart) cannot promise. So the leader's messages are also held
// back by D (raftd's /fault/slow net_ms) from before the first cut: a
// follower then learns a commit 2D after the entry left the leader, not one
// round trip, and any two cuts less than D apart still leave the laggers
// missing only entries the others do not yet know are committed. The first
// cut waits D so that every message then in flight is a held-back one.
const TopoLagIsolateLeader = "lag-isolate-leader"

// The step between the two cuts is drawn from [minLagStep, maxLagStep]: at
// least the time for an append already on its way to reach the followers,
// at most a replication round trip on loopback (two fsyncs and four
// socket hops, a few milliseconds on a loaded machine).
const (
	minLagStep = 500 * time.Microsecond
	maxLagStep = 4 * time.Millisecond
)

// The leader's hold-back D is drawn from [minLagHoldMs, maxLagHoldMs]: above
// the spread of Docker's per-container rule changes, below raftd's minimum
// election timeout (10 ticks of 50 ms), so followers still hear heartbeats,
// only later.
const (
	minLagHoldMs = 150
	maxLagHoldMs = 300
)

// lagModes offers lag-isolate-leader when the system can hold back the
// leader's messages, a leader is known and there is a follower to lag and
// one to keep up (three nodes or more).
func (p *planner) lagModes(v view) []string {
	if !p.has(system.SlowDown) || v.leader == "" || len(v.nodes) < 3 || !slices.Contains(v.nodes, v.leader) {
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
	hold := client.Slow{NetMs: drawMs(p.rng, minLagHoldMs, maxLagHoldMs)}
	return fault{
		Kind: Partition, Mode: TopoLagIsolateLeader,
		Groups:  IsolateGroups(v.nodes, v.leader),
		Grudge:  dropFromGrudge(followers, v.leader),
		Targets: laggers,
		Step:    step,
		Delays:  map[string]client.Slow{v.leader: hold},
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

// applyLag puts a lag-isolate-leader fault in place: the leader's
// hold-back, the laggers' cut, the step, then the final cut. Damage is
// marked before each stage, so the heal (healSlow) undoes any of them.
func (n *Nemesis) applyLag(ctx context.Context, f fault) error {
	leader := f.Groups[0][0]
	hold := f.Delays[leader]
	n.markNode(setSlowed, leader)
	if err := n.env.Admin.SetSlow(ctx, leader, hold); err != nil {
		return fmt.Errorf("hold back %s's messages: %w", leader, err)
	}
	if !sleepCtx(ctx, time.Duration(hold.NetMs)*time.Millisecond) {
		return ctx.Err()
	}
	if err := n.cut(ctx, dropFromGrudge(f.Targets, leader)); err != nil {
		return fmt.Errorf("cut %s from %s: %w", strings.Join(f.Targets, ","), leader, err)
	}
	// A busy wait would be more precise, but a sleep of a few milliseconds
	// is within the drawn range on an idle scheduler and the range is
	// chosen wide for that reason.
	sleepCtx(ctx, f.Step)
	return n.cut(ctx, f.Grudge)
}

// lagString describes a lag-isolate-leader fault.
func (f fault) lagString() string {
	leader := f.Groups[0][0]
	return fmt.Sprintf("partition %s %s (%s cut %.1fms earlier; %s's messages held back %dms)", f.Mode, groupsString(f.Groups),
		strings.Join(f.Targets, " "), stepMs(f.Step), leader, f.Delays[leader].NetMs)
}

// stepMs is a lag step in milliseconds, as events and descriptions show it.
func stepMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
