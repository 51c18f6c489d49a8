package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// Membership changes the configuration at run time: adds, removals,
// replacements, rejoins and swaps (swap.go).
const Membership Kind = "membership"

// Membership operations.
const (
	MemberAdd          = "add"           // start a fresh node, add it as a voter
	MemberRemove       = "remove"        // remove a random voter, delete the node
	MemberRemoveLeader = "remove-leader" // remove the leader, delete the node
	MemberReplace      = "replace"       // remove a voter, add a fresh node under a new id
	MemberRejoin       = "rejoin"        // remove a voter, wipe it, add it back under the same id
)

// minVoters is the smallest configuration the nemesis leaves: three voters
// survive the loss of one.
const minVoters = 3

type membershipKind struct{}

func (membershipKind) name() Kind { return Membership }

// needs: the membership API, and the leader's status for the configuration
// it is in (the planner's voters, the heal's reconciliation). Swap-partition
// also partitions and pauses.
func (membershipKind) needs() Needs {
	return Needs{
		System:  []system.Capability{system.Membership, system.Status},
		Runtime: []RuntimeOp{OpNodes, OpPartition, OpPause},
	}
}

// modeNeeds: the swaps add and remove in one change (member-replace).
func (membershipKind) modeNeeds(mode string) []system.Capability {
	if mode == MemberSwap || mode == MemberSwapPartition {
		return []system.Capability{system.MemberReplace}
	}
	return nil
}

func (membershipKind) modes(p *planner, v view) []string {
	var m []string
	voters := len(v.voters)
	if voters+1 <= p.maxNodes {
		m = append(m, MemberAdd)
	}
	if voters-1 >= minVoters {
		m = append(m, MemberRemove, MemberReplace, MemberRejoin)
		if v.leader != "" {
			m = append(m, MemberRemoveLeader)
		}
	}
	return append(m, p.swapModes(v)...) // swap.go
}

func (membershipKind) plan(p *planner, mode string, v view) fault { return p.membership(mode, v) }

func (p *planner) membership(mode string, v view) fault {
	f := fault{Kind: Membership, Mode: mode}
	switch mode {
	case MemberAdd:
		f.Add = p.freshID(v)
	case MemberRemoveLeader:
		f.Remove = v.leader
	case MemberRemove:
		f.Remove = p.pick(v.voters)
	case MemberReplace:
		f.Remove = p.pick(v.voters)
		f.Add = p.freshID(v)
	case MemberRejoin:
		f.Remove = p.pick(v.voters)
		f.Add = f.Remove
	case MemberSwap, MemberSwapPartition:
		return p.swap(mode, v)
	}
	return f
}

func (membershipKind) start(ctx context.Context, n *Nemesis, f fault) error {
	n.mark(func(d *damage) { d.membership = true })
	return n.changeMembership(ctx, f)
}

func (membershipKind) heal(ctx context.Context, n *Nemesis, f fault) error {
	if f.Grudge != nil {
		// swap-partition: reunite the sides (and wake the fresh node, if
		// its resume failed) before repairing the configuration.
		if err := errors.Join(n.uncut(ctx, f), n.resumePaused(ctx, n.healable(setPaused, f))); err != nil {
			return err
		}
	}
	_, err := n.reconcileMembership(ctx)
	return err
}

// value: {"op"}, and "node" for an add, remove or rejoin, "remove" and
// "add" for a replace or swap, with swap-partition's "groups" and "grudge".
func (membershipKind) value(f fault) map[string]any {
	v := map[string]any{"op": f.Mode}
	switch f.Mode {
	case MemberReplace, MemberSwap, MemberSwapPartition:
		v["remove"], v["add"] = f.Remove, f.Add
		if f.Grudge != nil {
			v["groups"], v["grudge"] = f.Groups, f.Grudge
		}
	case MemberAdd:
		v["node"] = f.Add
	default:
		v["node"] = f.Remove
	}
	return v
}

func (membershipKind) describe(f fault) string {
	switch f.Mode {
	case MemberReplace, MemberSwap:
		return fmt.Sprintf("membership %s %s by %s", f.Mode, f.Remove, f.Add)
	case MemberSwapPartition:
		return fmt.Sprintf("membership %s %s by %s + partition %s", f.Mode, f.Remove, f.Add, groupsString(f.Groups))
	case MemberAdd:
		return "membership add " + f.Add
	}
	return fmt.Sprintf("membership %s %s", f.Mode, f.Remove)
}

// changeMembership performs a planned membership change. Removal always
// comes first in a replace or rejoin, so the voters never exceed MaxNodes.
// A removed node keeps running until the fault ends (the heal's
// reconciliation deletes it), as a server that missed its removal would in
// a real cluster: it times out and campaigns, which a correct cluster
// ignores. A rejoin must wipe it at once to add it back.
func (n *Nemesis) changeMembership(ctx context.Context, f fault) error {
	switch f.Mode {
	case MemberAdd:
		return n.addMember(ctx, f.Add)
	case MemberRemove, MemberRemoveLeader:
		return n.removeFromConfig(ctx, f.Remove)
	case MemberReplace:
		if err := n.removeFromConfig(ctx, f.Remove); err != nil {
			return err
		}
		return n.addMember(ctx, f.Add)
	case MemberRejoin:
		if err := n.removeMember(ctx, f.Remove); err != nil {
			return err
		}
		return n.addMember(ctx, f.Add)
	case MemberSwap, MemberSwapPartition:
		return n.swapMember(ctx, f)
	}
	return fmt.Errorf("unknown membership op %q", f.Mode)
}

// addMember starts a fresh, empty node in join mode (the runtime wipes any
// earlier data of that id) and asks the cluster to add it as a voter. A
// system that must know a member before its node starts (a
// system.PreAdder, etcd) is asked the other way round: addBeforeStart.
func (n *Nemesis) addMember(ctx context.Context, id string) error {
	if pre, ok := n.env.Admin.(system.PreAdder); ok {
		return n.addBeforeStart(ctx, pre, id)
	}
	if err := n.startFresh(ctx, id); err != nil {
		return err
	}
	if err := n.env.Admin.AddMember(ctx, id, n.env.Cluster.PeerAddr(id)); err != nil {
		return fmt.Errorf("add %s to the configuration: %w", id, err)
	}
	return nil
}

// addBeforeStart adds id in the order etcd needs: the runtime reserves the
// node's addresses, the system adds it as a member that does not vote yet,
// the node starts with the member list the system returned, and AddMember
// makes it a voter. A node that fails to start is taken out of the
// configuration again, so no member is left without a node.
func (n *Nemesis) addBeforeStart(ctx context.Context, pre system.PreAdder, id string) error {
	r, ok := n.env.Cluster.(runtime.Reserver)
	if !ok {
		return fmt.Errorf("add %s: the system must add a member before its node starts, and runtime cluster %T cannot reserve a node's addresses", id, n.env.Cluster)
	}
	peerAddr, err := r.ReserveNode(ctx, id)
	if err != nil {
		return fmt.Errorf("reserve %s: %w", id, err)
	}
	peers, err := pre.PreAdd(ctx, id, peerAddr)
	if err != nil {
		return errors.Join(fmt.Errorf("add %s to the configuration before it starts: %w", id, err), r.Unreserve(context.WithoutCancel(ctx), id))
	}
	if err := r.StartReserved(ctx, id, peers); err != nil {
		err = fmt.Errorf("start %s: %w", id, err)
		if rerr := n.env.Admin.RemoveMember(context.WithoutCancel(ctx), id); rerr != nil {
			err = errors.Join(err, fmt.Errorf("take %s out of the configuration again: %w", id, rerr))
		}
		return err
	}
	n.env.Admin.SetAddr(id, n.env.Cluster.ClientAddr(id))
	if err := n.env.Admin.AddMember(ctx, id, peerAddr); err != nil {
		return fmt.Errorf("make %s a voter: %w", id, err)
	}
	return nil
}

// startFresh starts an empty node in join mode and lets the admin client
// reach it.
func (n *Nemesis) startFresh(ctx context.Context, id string) error {
	if err := n.env.Cluster.AddNode(ctx, id); err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	n.env.Admin.SetAddr(id, n.env.Cluster.ClientAddr(id))
	return nil
}

// removeFromConfig takes id out of the configuration and leaves the node
// running: it is a stray until the heal deletes it.
func (n *Nemesis) removeFromConfig(ctx context.Context, id string) error {
	if err := n.env.Admin.RemoveMember(ctx, id); err != nil {
		return fmt.Errorf("remove %s from the configuration: %w", id, err)
	}
	return nil
}

// removeMember takes id out of the configuration, then deletes the node. The
// node keeps running until its removal is committed, so the cluster never
// loses a voter that still counts towards its majorities.
func (n *Nemesis) removeMember(ctx context.Context, id string) error {
	if err := n.env.Admin.RemoveMember(ctx, id); err != nil {
		return fmt.Errorf("remove %s from the configuration: %w", id, err)
	}
	return n.deleteNode(ctx, id)
}

func (n *Nemesis) deleteNode(ctx context.Context, id string) error {
	n.env.Admin.RemoveAddr(id)
	if err := n.env.Cluster.RemoveNode(ctx, id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

// reconcileAttempts and reconcileBackoff bound how long a membership repair
// waits for a leader and a settled (non-joint) configuration: about 10 s.
const (
	reconcileAttempts = 20
	reconcileBackoff  = 500 * time.Millisecond
)

// reconcileMembership brings the running nodes and the committed
// configuration back into agreement after a change that may have been
// interrupted: a voter whose node is gone is removed from the configuration
// (after adding a fresh node if that would leave fewer than 3 voters), a
// running node that is not a voter is added when voters are short and
// deleted otherwise, and voters are added or removed until their number is
// within [3, MaxNodes]. One repair at a time, re-reading the configuration
// after each. It returns what it did, and an error naming what is still
// wrong when the attempts run out. Called with opMu held.
func (n *Nemesis) reconcileMembership(ctx context.Context) ([]string, error) {
	var (
		did     []string
		lastErr error
	)
	for attempt := range reconcileAttempts {
		if attempt > 0 && !sleepCtx(ctx, reconcileBackoff) {
			break
		}
		leader, st, err := leaderStatus(ctx, n.env)
		if err != nil {
			lastErr = err
			continue
		}
		if st.Config.Joint {
			lastErr = fmt.Errorf("configuration of leader %s is still joint", leader)
			continue
		}
		running := n.env.Cluster.Nodes()
		slices.Sort(running)
		voters := slices.Sorted(slices.Values(st.Config.Voters))
		gone := minus(voters, running)
		strays := minus(running, voters) // learners included: not voters yet
		var action string
		switch {
		case len(gone) > 0 && len(voters)-1 >= minVoters:
			action = "removed vanished voter " + gone[0]
			err = n.env.Admin.RemoveMember(ctx, gone[0])
		case len(strays) > 0 && (len(voters) < minVoters || len(gone) > 0):
			// Short of voters, or about to be: a half-added node is the
			// quickest way back to a full configuration.
			action = "finished adding " + strays[0]
			err = n.env.Admin.AddMember(ctx, strays[0], n.env.Cluster.PeerAddr(strays[0]))
		case len(strays) > 0:
			action = "deleted non-member node " + strays[0]
			if slices.Contains(st.Config.Learners, strays[0]) {
				err = n.removeMember(ctx, strays[0])
			} else {
				err = n.deleteNode(ctx, strays[0])
			}
		case len(gone) > 0 || len(voters) < minVoters:
			id := n.plan.freshID(view{nodes: running, voters: voters})
			action = "added fresh voter " + id
			err = n.addMember(ctx, id)
		case len(voters) > n.opt.MaxNodes:
			victim := voters[0]
			if victim == leader {
				victim = voters[1]
			}
			action = "removed surplus voter " + victim
			err = n.removeMember(ctx, victim)
		default:
			n.mark(func(d *damage) { d.membership = false })
			return did, nil
		}
		if err != nil {
			lastErr = fmt.Errorf("%s: %w", action, err)
			n.log.Warn("membership repair failed", "action", action, "err", err)
			continue
		}
		n.log.Info("membership repair", "action", action)
		did = append(did, action)
		lastErr = nil
	}
	if lastErr == nil {
		lastErr = errors.New("attempts ran out")
	}
	return did, fmt.Errorf("membership not repaired after %d attempts: %w", reconcileAttempts, lastErr)
}

// minus lists the elements of a that are not in b, in a's order.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// overlap: none. The repair at the end reconciles the whole configuration
// with the running nodes, which a fault beside it (a killed voter, another
// change) would defeat.
func (membershipKind) overlap() Overlap { return OverlapNone }
