package raft

import (
	"slices"

	"github.com/faultline/faultline/sut/bugs"
)

// This file drives membership changes on the leader: a new server first joins
// as a learner; once it has caught up, the leader appends the joint
// configuration C(old,new); once that commits, it appends C(new). A removal
// goes straight to C(old,new) and then C(new). A replacement (Add and Remove
// together) is one change: the new server joins as a learner, then a single
// C(old,new) brings it in and takes the other out, then C(new). Only one
// change is in flight.

// ProposeMembership starts a membership change. It returns ErrNotLeader,
// ErrChangeInProgress, or an error describing an invalid change. Adding a
// server that is already a learner re-arms its promotion (how a server
// finishes an addition begun under an earlier leader), with the removal
// given now, if any.
func (n *RawNode) ProposeMembership(c MembershipChange) error {
	if n.role != Leader {
		return ErrNotLeader
	}
	if err := n.membership.validateChange(c); err != nil {
		return err
	}
	if n.changeInProgress() && !(c.Add != "" && c.Add == n.pendingPromotion) {
		return ErrChangeInProgress
	}
	cur := n.membership
	switch {
	case c.Add != "" && cur.IsLearner(c.Add):
		n.pendingPromotion, n.pendingRemoval = c.Add, c.Remove
		n.maybeAdvanceMembership()
	case c.Add != "":
		n.appendConfig(cur.withLearner(c.Add, c.Addr))
		n.pendingPromotion, n.pendingRemoval = c.Add, c.Remove
	case cur.IsLearner(c.Remove):
		// A learner never counts in any majority: drop it in one step.
		n.appendConfig(cur.withoutLearner(c.Remove))
	default:
		voters := slices.DeleteFunc(slices.Clone(cur.Voters), func(id string) bool { return id == c.Remove })
		n.appendConfig(n.nextVoterConfig(voters))
	}
	return nil
}

// changeInProgress: a configuration is uncommitted, a joint configuration is
// still to be left, or a learner is waiting for promotion.
func (n *RawNode) changeInProgress() bool {
	return n.configIndex > n.log.committed || n.membership.Joint() || n.pendingPromotion != ""
}

// nextVoterConfig is the configuration that starts moving to the given voters:
// the joint C(old,new).
func (n *RawNode) nextVoterConfig(voters []string) Membership {
	// PLANTED BUG single-step-membership: switch C(old) -> C(new) directly,
	// with no joint phase; C(old) and C(new) majorities may then be disjoint
	// and elect two leaders or commit conflicting entries.
	if n.cfg.Bugs.Has(bugs.SingleStepMembership) {
		return n.membership.enterJoint(voters).leaveJoint()
	}
	return n.membership.enterJoint(voters)
}

func (n *RawNode) appendConfig(m Membership) {
	n.appendEntry(EntryConfig, EncodeMembership(m))
	n.bcastAppend()
}

// maybeAdvanceMembership moves a change on by one step when it may: promote a
// caught-up learner, leave a committed joint configuration, or step down once
// a C(new) without us has committed. Called on ticks, acks and commits.
func (n *RawNode) maybeAdvanceMembership() {
	if n.role != Leader || n.configIndex > n.log.committed {
		return
	}
	m := n.membership
	switch {
	case m.Joint():
		n.appendConfig(m.leaveJoint())
	case !m.IsVoter(n.id):
		// C(new) without us is committed: we managed the change to its end
		// and now leave the stage.
		n.becomeFollower(n.term, "")
	case n.pendingPromotion != "":
		id := n.pendingPromotion
		pr := n.prs[id]
		if !m.IsLearner(id) {
			n.pendingPromotion, n.pendingRemoval = "", ""
			return
		}
		if pr == nil || pr.match < n.log.committed {
			return // still catching up
		}
		gone := n.pendingRemoval
		n.pendingPromotion, n.pendingRemoval = "", ""
		voters := slices.DeleteFunc(slices.Clone(m.Voters), func(v string) bool { return v == gone })
		n.appendConfig(n.nextVoterConfig(append(voters, id)))
	}
}
