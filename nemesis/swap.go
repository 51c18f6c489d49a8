package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// Swap operations: one voter replaced by a fresh node in a single
// membership change (POST /admin/members with add and remove together).
// Unlike replace (a removal, then an addition: two single-server changes,
// each safe even without joint consensus), a swap moves to a configuration
// whose majorities can be disjoint from the old one's, which is what joint
// consensus exists for.
const (
	MemberSwap = "swap" // replace a random voter by a fresh node in one change
	// MemberSwapPartition swaps a follower X for a fresh node N, and cuts
	// the leader, N and just enough others to form a majority of C(new) off
	// from the rest (X included), which with an odd number of voters is a
	// majority of C(old). The cut falls after the learner step committed
	// and before N has caught up (N is paused meanwhile), so the leader's
	// next configuration entry can only reach its own side: joint consensus
	// cannot commit it there, a single-step C(new) can, and the other side
	// elects a second leader.
	MemberSwapPartition = "swap-partition"
)

// swapModes lists the swap operations for v: they keep the number of voters
// and need a leader (swap-partition cuts around it), and a system that adds
// and removes in one change (member-replace: etcd has none). Swap-partition
// partitions, so it is played only when partitions were asked for, as a
// kind or as this mode.
func (p *planner) swapModes(v view) []string {
	if !p.has(system.MemberReplace) || v.leader == "" || len(v.voters) < minVoters || !slices.Contains(v.voters, v.leader) {
		return nil
	}
	m := []string{MemberSwap}
	if slices.Contains(p.kinds, Partition) || p.asked(Membership, MemberSwapPartition) {
		m = append(m, MemberSwapPartition)
	}
	return m
}

// swap plans a swap: the voter to go, the fresh node and, for
// swap-partition, the two sides.
func (p *planner) swap(mode string, v view) fault {
	f := fault{Kind: Membership, Mode: mode, Add: p.freshID(v)}
	if mode == MemberSwap {
		f.Remove = p.pick(v.voters)
		return f
	}
	others := minus(v.voters, []string{v.leader})
	f.Remove = p.pick(others)
	// The leader's side holds a bare majority of C(new): the leader, the
	// fresh node and majority-2 of the voters that stay.
	companions := p.shuffled(minus(others, []string{f.Remove}))[:len(v.voters)/2+1-2]
	side := append([]string{v.leader, f.Add}, companions...)
	slices.Sort(side)
	f.Groups = [][]string{side, minus(v.nodes, side)}
	f.Grudge = GroupsGrudge(f.Groups)
	f.Targets = []string{f.Add} // paused until the cut is in place
	return f
}

// swapMember plays a swap or a swap-partition.
func (n *Nemesis) swapMember(ctx context.Context, f fault) error {
	if f.Mode == MemberSwapPartition {
		return n.swapPartition(ctx, f)
	}
	if err := n.startFresh(ctx, f.Add); err != nil {
		return err
	}
	if err := n.env.Admin.ReplaceMember(ctx, f.Add, n.env.Cluster.PeerAddr(f.Add), f.Remove); err != nil {
		return fmt.Errorf("replace %s by %s: %w", f.Remove, f.Add, err)
	}
	// The removed node runs on until the heal deletes it, as in a removal.
	return nil
}

// learnerWait bounds how long swap-partition waits for the learner step to
// commit; learnerPoll is how often it asks the leader.
const (
	learnerWait = 5 * time.Second
	learnerPoll = 20 * time.Millisecond
)

// swapPartition starts the fresh node paused, sends the swap, waits until
// the leader has committed the learner entry, cuts the cluster in two and
// resumes the fresh node. The change then goes on, or stalls, on its own;
// the heal (partition healed, membership reconciled) cleans up either way.
func (n *Nemesis) swapPartition(ctx context.Context, f fault) error {
	c := n.env.Cluster
	if err := n.startFresh(ctx, f.Add); err != nil {
		return err
	}
	n.markNode(setPaused, f.Add)
	if err := c.Pause(ctx, f.Add); err != nil {
		return fmt.Errorf("pause %s: %w", f.Add, err)
	}
	reqCtx, cancel := context.WithCancel(ctx)
	answer := make(chan error, 1)
	go func() {
		answer <- n.env.Admin.ReplaceMember(reqCtx, f.Add, c.PeerAddr(f.Add), f.Remove)
	}()
	err := n.awaitLearner(ctx, f.Add, answer)
	if err == nil {
		if perr := n.cut(ctx, f.Grudge); perr != nil {
			err = fmt.Errorf("partition: %w", perr)
		}
	}
	if rerr := c.Resume(ctx, f.Add); rerr != nil {
		err = errors.Join(err, fmt.Errorf("resume %s: %w", f.Add, rerr))
	} else {
		n.unmarkNode(setPaused, f.Add)
	}
	// The request has done its part once the change started: whether the
	// leader commits C(new) is what the fault tests, not something to wait
	// for here.
	cancel()
	return err
}

// awaitLearner polls the leader until id is a learner (or already a voter)
// in its configuration and the entry that made it so is committed. It
// fails early when the change request is refused.
func (n *Nemesis) awaitLearner(ctx context.Context, id string, answer <-chan error) error {
	deadline := time.Now().Add(learnerWait)
	var (
		seenAt  uint64 // the leader's last index when id first showed up
		lastErr error
	)
	for time.Now().Before(deadline) {
		select {
		case err := <-answer:
			if err != nil {
				return fmt.Errorf("swap request: %w", err)
			}
			return nil // done already (the learner step is long past)
		default:
		}
		// Not asking id itself: it is paused and would hold up each round.
		nodes := minus(syncAdmin(n.env), []string{id})
		_, st, ok := leaderOf(statuses(ctx, n.env, nodes))
		switch {
		case !ok:
			lastErr = fmt.Errorf("no node of %v says it is the leader", nodes)
		case slices.Contains(st.Config.Learners, id) || slices.Contains(st.Config.Voters, id):
			if seenAt == 0 {
				seenAt = st.LastIndex
			}
			if st.Commit >= seenAt {
				return nil
			}
			lastErr = fmt.Errorf("learner entry of %s not committed yet", id)
		default:
			lastErr = fmt.Errorf("%s not in the leader's configuration yet", id)
		}
		if !sleepCtx(ctx, learnerPoll) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("waiting %v for %s to join as a learner: %w", learnerWait, id, lastErr)
}
