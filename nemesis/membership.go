package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

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
// earlier data of that id) and asks the cluster to add it as a voter.
func (n *Nemesis) addMember(ctx context.Context, id string) error {
	if err := n.startFresh(ctx, id); err != nil {
		return err
	}
	if err := n.env.Admin.AddMember(ctx, id, n.env.Cluster.PeerAddr(id)); err != nil {
		return fmt.Errorf("add %s to the configuration: %w", id, err)
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
