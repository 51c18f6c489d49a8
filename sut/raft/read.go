package raft

import "github.com/faultline/faultline/sut/bugs"

// This file serves linearizable reads without writing to the log.
//
// ReadIndex: the leader records its commit index, then confirms it is still
// the leader with a heartbeat round acknowledged by a majority (of each
// configuration while joint). Every heartbeat is a numbered round
// (Message.Context); an ack of round r also vouches for every earlier round,
// because it was sent after them. Reads that arrive while a round is in flight
// wait for the next one, so concurrent reads share rounds.
//
// Lease: a confirmed round sent at tick s proves no other leader can exist
// before s + ElectionTick in any follower's clock (followers ignore vote
// requests that long); allowing for clock-rate drift the leader serves reads
// without a round until s + floor(ElectionTick*(1-MaxClockDrift)).

type pendingRead struct {
	ctx   uint64
	index uint64 // commit index recorded when the read arrived
	round uint64 // the first round started after it arrived
}

// readState is the leader's read bookkeeping for its current term.
type readState struct {
	queued    []uint64 // waiting for the first commit of the term
	pending   []pendingRead
	lastRound uint64            // newest round started
	confirmed uint64            // newest round acknowledged by a quorum
	sentAt    map[uint64]uint64 // round -> tick sent, for unconfirmed rounds
	// Lease: valid while ticks < leaseEnd (and hasLease).
	hasLease bool
	leaseEnd uint64
}

// ReadIndex asks to serve a linearizable read identified by ctx. The answer
// comes in a later Ready: a ReadState{Index, RequestCtx: ctx} once it is safe
// to answer after applying up to Index, or ctx in DroppedReads when this node
// cannot serve it (not the leader, or leadership lost).
func (n *RawNode) ReadIndex(ctx uint64) {
	if n.role != Leader {
		n.droppedReads = append(n.droppedReads, ctx)
		return
	}
	// PLANTED BUG read-before-noop: the read is served at the current commit
	// index even before the leader committed an entry of its term, when that
	// index may still be behind what earlier leaders committed.
	if !n.committedInTerm() && !n.cfg.Bugs.Has(bugs.ReadBeforeNoop) {
		n.reads.queued = append(n.reads.queued, ctx)
		return
	}
	n.serveRead(ctx)
}

func (n *RawNode) serveRead(ctx uint64) {
	if n.cfg.ReadMode == ReadLease && n.leaseValid() {
		n.readStates = append(n.readStates, ReadState{Index: n.log.committed, RequestCtx: ctx})
		return
	}
	r := &n.reads
	r.pending = append(r.pending, pendingRead{ctx: ctx, index: n.log.committed, round: r.lastRound + 1})
	if r.confirmed == r.lastRound {
		n.startReadRound()
	}
}

// releaseQueuedReads serves reads that waited for the term's first commit.
func (n *RawNode) releaseQueuedReads() {
	if len(n.reads.queued) == 0 || !n.committedInTerm() {
		return
	}
	q := n.reads.queued
	n.reads.queued = nil
	for _, ctx := range q {
		n.serveRead(ctx)
	}
}

// startReadRound broadcasts one heartbeat round. The heartbeat's commit is
// capped at the follower's match so it never commits entries it lacks.
func (n *RawNode) startReadRound() {
	r := &n.reads
	r.lastRound++
	if r.sentAt == nil {
		r.sentAt = map[uint64]uint64{}
	}
	r.sentAt[r.lastRound] = n.ticks
	for _, id := range n.peers() {
		pr := n.prs[id]
		if pr == nil {
			continue
		}
		n.send(Message{Type: MsgHeartbeat, To: id, Commit: min(pr.match, n.log.committed), Context: r.lastRound})
	}
	n.checkReadRounds()
}

// handleReadAck records that a member answered the heartbeat of round ctx.
func (n *RawNode) handleReadAck(from string, ctx uint64) {
	pr := n.prs[from]
	if pr == nil || ctx == 0 || ctx <= pr.readAck {
		return
	}
	pr.readAck = min(ctx, n.reads.lastRound)
	n.checkReadRounds()
}

// checkReadRounds confirms the newest round a quorum acknowledged, renews the
// lease from its send tick and releases the reads it covers.
func (n *RawNode) checkReadRounds() {
	r := &n.reads
	if len(n.membership.Voters) == 0 {
		return
	}
	q := jointValue(n.membership, func(id string) uint64 {
		if id == n.id {
			return r.lastRound
		}
		if pr := n.prs[id]; pr != nil {
			return pr.readAck
		}
		return 0
	})
	if q <= r.confirmed {
		return
	}
	sent := r.sentAt[q]
	for round := range r.sentAt {
		if round <= q {
			delete(r.sentAt, round)
		}
	}
	r.confirmed = q
	if end := sent + n.cfg.leaseTicks(); !r.hasLease || end > r.leaseEnd {
		r.hasLease, r.leaseEnd = true, end
	}
	kept := r.pending[:0]
	for _, p := range r.pending {
		if p.round <= q {
			n.readStates = append(n.readStates, ReadState{Index: p.index, RequestCtx: p.ctx})
		} else {
			kept = append(kept, p)
		}
	}
	r.pending = kept
	if len(r.pending) > 0 && r.confirmed == r.lastRound {
		n.startReadRound()
	}
}

// leaseValid: we lead, committed in our term, and a confirmed round's lease
// has not run out on our clock.
func (n *RawNode) leaseValid() bool {
	return n.role == Leader && n.reads.hasLease && n.ticks < n.reads.leaseEnd && n.committedInTerm()
}

// dropAllReads fails every read waiting on this leader.
func (n *RawNode) dropAllReads() {
	n.droppedReads = append(n.droppedReads, n.reads.queued...)
	for _, p := range n.reads.pending {
		n.droppedReads = append(n.droppedReads, p.ctx)
	}
	n.reads = readState{}
}
