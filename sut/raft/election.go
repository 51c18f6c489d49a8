package raft

import "github.com/faultline/faultline/sut/bugs"

// canCampaign: voters of the latest configuration start elections; learners,
// joining servers and servers that know their removal committed stay passive.
// A server left out of an uncommitted C(new) still campaigns (Raft thesis
// 4.2.2): it may be needed to commit that C(new), and it does not count its
// own vote.
func (n *RawNode) canCampaign() bool {
	if n.pendingSnapshot != nil {
		return false
	}
	if n.membership.IsVoter(n.id) {
		return true
	}
	if n.configIndex <= n.log.committed {
		return false
	}
	m, _, _ := n.membershipAt(n.log.committed)
	return m.IsVoter(n.id)
}

func (n *RawNode) resetElectionTimer() {
	n.electionElapsed = 0
	n.heartbeatElapsed = 0
	n.randomizedTimeout = n.cfg.ElectionTick + n.rand.IntN(n.cfg.ElectionTick)
}

// becomeFollower moves to term (forgetting the vote of an older term) and
// records lead (empty when unknown).
func (n *RawNode) becomeFollower(term uint64, lead string) {
	if n.role == Leader {
		n.stepDownCleanup()
	}
	if term != n.term {
		n.vote = ""
	}
	n.term = term
	n.lead = lead
	n.role = Follower
	n.votes = nil
	n.resetElectionTimer()
}

// campaign starts an election for the next term.
func (n *RawNode) campaign() {
	n.term++
	n.vote = n.id
	n.lead = ""
	n.role = Candidate
	n.votes = map[string]bool{n.id: true}
	n.resetElectionTimer()
	if n.wonElection() {
		n.becomeLeader()
		return
	}
	for _, id := range n.membership.Members() {
		if id == n.id || !n.membership.IsVoter(id) {
			continue
		}
		n.send(Message{Type: MsgVote, To: id, Index: n.log.lastIndex(), LogTerm: n.log.lastTerm()})
	}
}

// wonElection: granted votes form a majority of C(new) and, while joint, of C(old).
func (n *RawNode) wonElection() bool {
	if len(n.membership.Voters) == 0 {
		return false
	}
	return hasJointMajority(n.membership, func(id string) bool { return n.votes[id] })
}

// handleVote answers a RequestVote at our current term. The vote is persisted
// in the same Ready as the response, before the response is sent.
func (n *RawNode) handleVote(m Message) {
	canVote := n.vote == m.From || (n.vote == "" && n.lead == "")
	upToDate := n.log.isUpToDate(m.Index, m.LogTerm)
	// PLANTED BUG vote-ignores-log: the vote restriction is skipped, so a
	// candidate missing committed entries can win and overwrite them.
	if n.cfg.Bugs.Has(bugs.VoteIgnoresLog) {
		upToDate = true
	}
	// A learner answers too: the candidate may hold a newer configuration in
	// which it is a voter, and a candidate only counts votes of its own voters.
	if canVote && upToDate && n.role != Leader {
		n.vote = m.From
		n.electionElapsed = 0
		n.send(Message{Type: MsgVoteResp, To: m.From})
		return
	}
	n.send(Message{Type: MsgVoteResp, To: m.From, Reject: true})
}

func (n *RawNode) handleVoteResp(m Message) {
	if !m.Reject {
		n.votes[m.From] = true
	}
	if n.wonElection() {
		n.becomeLeader()
	}
}

// becomeLeader starts a term of leadership with a no-op entry, which commits
// everything before it and lets reads be served.
func (n *RawNode) becomeLeader() {
	n.role = Leader
	n.lead = n.id
	n.votes = nil
	n.electionElapsed = 0
	n.heartbeatElapsed = 0
	n.prs = map[string]*progress{}
	n.syncProgress()
	n.reads = readState{}
	n.appendEntry(EntryNoOp, nil)
	n.bcastAppend()
	// A configuration inherited from an earlier term may need finishing.
	n.maybeAdvanceMembership()
}

// stepDownCleanup drops leader-only state; reads in flight can no longer be
// confirmed and fail definitely.
func (n *RawNode) stepDownCleanup() {
	n.dropAllReads()
	n.prs = nil
	n.pendingPromotion, n.pendingRemoval = "", ""
}

// tickLeader: heartbeats (each one a read round) and check-quorum.
func (n *RawNode) tickLeader() {
	n.heartbeatElapsed++
	n.electionElapsed++
	if n.electionElapsed >= n.cfg.ElectionTick {
		n.electionElapsed = 0
		if !n.quorumActive() {
			n.becomeFollower(n.term, "")
			return
		}
	}
	if n.heartbeatElapsed >= n.cfg.HeartbeatTick {
		n.heartbeatElapsed = 0
		n.startReadRound()
	}
	n.tickSnapshotTransfers()
	n.maybeAdvanceMembership()
}

// quorumActive is check-quorum: a majority of each configuration answered us
// within the last election timeout. It resets the activity marks.
func (n *RawNode) quorumActive() bool {
	active := hasJointMajority(n.membership, func(id string) bool {
		if id == n.id {
			return true
		}
		pr := n.prs[id]
		return pr != nil && pr.recentActive
	})
	for _, pr := range n.prs {
		pr.recentActive = false
	}
	return active
}
