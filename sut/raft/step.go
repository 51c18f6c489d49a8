package raft

import (
	"fmt"

	"github.com/faultline/faultline/sut/bugs"
)

// Step feeds one message from a peer into the node. Messages for another node
// or malformed ones are refused with an error; stale ones (an older term, a
// duplicate, an acknowledgement already seen) are ignored safely.
func (n *RawNode) Step(m Message) error {
	if m.To != n.id {
		return fmt.Errorf("raft: message %v for %q delivered to %q", m.Type, m.To, n.id)
	}
	if m.From == "" || m.From == n.id {
		return fmt.Errorf("raft: message %v to %q has bad sender %q", m.Type, n.id, m.From)
	}
	if m.Type < MsgVote || m.Type > MsgSnapResp {
		return fmt.Errorf("raft: message from %q has unknown type %d", m.From, m.Type)
	}
	if m.Type == MsgSnap && m.SnapMeta == nil {
		return fmt.Errorf("raft: snapshot chunk from %q has no metadata", m.From)
	}

	switch {
	case m.Term > n.term:
		if m.Type == MsgVote && n.inLeaderLease() {
			// A leader is known and was heard from within the minimum
			// election timeout: this vote request comes from a server that
			// lost touch (often one that was removed). Ignore it: no term
			// update, no vote. Leader leases rely on this promise.
			return nil
		}
		switch {
		case isLeaderMessage(m.Type):
			n.becomeFollower(m.Term, m.From)
		case n.role != Leader:
			// Only a leader's message or a granted vote restarts the
			// election timer (Figure 2): a candidate that cannot win must
			// not keep better-placed servers from timing out.
			elapsed, timeout := n.electionElapsed, n.randomizedTimeout
			n.becomeFollower(m.Term, "")
			n.electionElapsed, n.randomizedTimeout = elapsed, timeout
		default:
			n.becomeFollower(m.Term, "")
		}
	case m.Term < n.term:
		if m.Type == MsgApp || m.Type == MsgHeartbeat {
			// A deposed leader still talks to us. Since we may be ignoring
			// its rivals' vote requests, tell it our term so it steps down
			// and the cluster can converge.
			n.send(Message{Type: MsgAppResp, To: m.From})
		}
		return nil
	}

	switch m.Type {
	case MsgVote:
		n.handleVote(m)
	case MsgVoteResp:
		if n.role == Candidate {
			n.handleVoteResp(m)
		}
	case MsgApp, MsgHeartbeat, MsgSnap:
		if n.role == Leader {
			return nil // cannot happen in a correct cluster: one leader per term
		}
		if n.role == Candidate || n.lead != m.From {
			n.becomeFollower(n.term, m.From)
		}
		n.electionElapsed = 0
		n.restartQuiet = false
		switch m.Type {
		case MsgApp:
			n.handleAppend(m)
		case MsgHeartbeat:
			n.handleHeartbeat(m)
		default:
			n.handleSnapshotChunk(m)
		}
	case MsgAppResp, MsgHeartbeatResp, MsgSnapResp:
		if n.role != Leader {
			return nil
		}
		pr := n.prs[m.From]
		if pr == nil {
			return nil // no longer a member
		}
		pr.recentActive = true
		switch m.Type {
		case MsgAppResp:
			n.handleAppendResp(m, pr)
		case MsgHeartbeatResp:
			n.handleHeartbeatResp(m, pr)
		default:
			n.handleSnapshotResp(m, pr)
		}
	}
	return nil
}

func isLeaderMessage(t MessageType) bool {
	return t == MsgApp || t == MsgHeartbeat || t == MsgSnap
}

// inLeaderLease reports whether this node currently believes in a live
// leader: it is the leader, or it heard from one within ElectionTick ticks
// (or it just restarted and may have promised so before crashing).
func (n *RawNode) inLeaderLease() bool {
	// PLANTED BUG removed-server-disrupts: vote requests are never ignored,
	// so a removed server that times out bumps the term of the live cluster
	// and deposes its leader again and again.
	if n.cfg.Bugs.Has(bugs.RemovedServerDisrupts) {
		return false
	}
	if n.role == Leader {
		return true
	}
	if n.restartQuiet {
		return true
	}
	return n.lead != "" && n.electionElapsed < n.cfg.ElectionTick
}
