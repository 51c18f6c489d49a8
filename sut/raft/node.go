package raft

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
)

// RawNode is one Raft server's protocol state. It is not safe for concurrent
// use: the server drives it from one goroutine (or under one lock).
type RawNode struct {
	cfg  Config
	id   string
	rand *rand.Rand

	term uint64
	vote string
	lead string
	role Role // Follower, Candidate or Leader; Learner is only reported

	log *raftLog

	// membership is the latest configuration in the log (committed or not),
	// found at configIndex (the snapshot index when it came from the
	// snapshot, 0 when it is the bootstrap configuration).
	membership  Membership
	configIndex uint64
	configTerm  uint64
	peerIDs     []string // members but us, sorted
	bootstrap   Membership

	ticks             uint64 // logical clock: Tick calls since start
	electionElapsed   int
	heartbeatElapsed  int
	randomizedTimeout int
	// restartQuiet makes a restarted node honour, for one minimum election
	// timeout, the vote-ignoring promise it may have given before crashing
	// (leases of the current leader rely on it).
	restartQuiet bool

	votes map[string]bool // candidate: who granted

	// Leader state.
	prs              map[string]*progress
	pendingPromotion string // learner to turn into a voter once caught up
	pendingRemoval   string // voter that leaves in the same joint change as that promotion
	reads            readState

	// Follower: snapshot being received in chunks.
	incoming *incomingSnapshot
	// A snapshot received from the leader, to hand to the server.
	pendingSnapshot *Snapshot

	msgs         []Message
	readStates   []ReadState
	droppedReads []uint64

	prevSoft SoftState
	prevHard HardState
}

// NewRawNode builds a node from its configuration and restored durable state.
func NewRawNode(cfg Config) (*RawNode, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte(cfg.ID))
	n := &RawNode{
		cfg:       cfg,
		id:        cfg.ID,
		rand:      rand.New(rand.NewPCG(uint64(cfg.Seed), h.Sum64())),
		log:       &raftLog{},
		bootstrap: cfg.Bootstrap.Clone(),
	}
	if s := cfg.Snapshot; s != nil {
		n.log.snapshot, n.log.snapIndex, n.log.snapTerm = s, s.Meta.Index, s.Meta.Term
		n.log.committed, n.log.applied, n.log.stabled = s.Meta.Index, s.Meta.Index, s.Meta.Index
	}
	ents := cfg.Entries
	// Tolerate a WAL that still holds entries the snapshot covers.
	for len(ents) > 0 && ents[0].Index <= n.log.snapIndex {
		ents = ents[1:]
	}
	for i, e := range ents {
		if e.Index != n.log.snapIndex+1+uint64(i) {
			return nil, fmt.Errorf("raft config: field Entries: entry %d has index %d, want %d (the log must be contiguous after snapshot index %d)", i, e.Index, n.log.snapIndex+1+uint64(i), n.log.snapIndex)
		}
		if e.Term == 0 {
			return nil, fmt.Errorf("raft config: field Entries: entry at index %d has term 0", e.Index)
		}
		if e.Type == EntryConfig {
			if _, err := DecodeMembership(e.Data); err != nil {
				return nil, fmt.Errorf("raft config: field Entries: config entry at index %d: %w", e.Index, err)
			}
		}
	}
	n.log.entries = slices.Clone(ents)
	n.log.stabled = n.log.lastIndex()
	hs := cfg.HardState
	if hs.Commit > n.log.lastIndex() {
		return nil, fmt.Errorf("raft config: field HardState.Commit %d is beyond the last log index %d", hs.Commit, n.log.lastIndex())
	}
	n.term, n.vote = hs.Term, hs.Vote
	n.log.commitTo(hs.Commit)
	if lt := n.log.lastTerm(); lt > n.term {
		return nil, fmt.Errorf("raft config: field HardState.Term %d is below the last entry's term %d", n.term, lt)
	}
	n.restartQuiet = !hs.IsEmpty()
	n.refreshMembership()
	n.becomeFollower(n.term, "")
	n.prevHard = n.hardState()
	n.prevSoft = n.softState()
	return n, nil
}

// Tick advances the node's logical clock by one tick.
func (n *RawNode) Tick() {
	n.ticks++
	if n.role == Leader {
		n.tickLeader()
		return
	}
	n.electionElapsed++
	if n.electionElapsed >= n.cfg.ElectionTick {
		n.restartQuiet = false
	}
	if n.canCampaign() && n.electionElapsed >= n.randomizedTimeout {
		n.campaign()
	}
}

// Propose appends a command to the leader's log and returns where it landed.
func (n *RawNode) Propose(data []byte) (index, term uint64, err error) {
	if n.role != Leader {
		return 0, 0, ErrNotLeader
	}
	idx := n.appendEntry(EntryNormal, data)
	n.bcastAppend()
	return idx, n.term, nil
}

// Membership returns the latest configuration in the log, committed or not.
func (n *RawNode) Membership() Membership { return n.membership.Clone() }

// Status is a snapshot of the node's state for status pages and the server.
type Status struct {
	ID            string
	Role          Role
	Term          uint64
	Vote          string
	Lead          string
	Commit        uint64
	Applied       uint64
	LastIndex     uint64
	LastTerm      uint64
	SnapshotIndex uint64
	Membership    Membership
	// ConfigIndex is the log index of Membership (the snapshot index when it
	// came from the snapshot, 0 for the bootstrap configuration); the
	// configuration is committed when ConfigIndex <= Commit.
	ConfigIndex uint64
	// LeaseValid: in ReadLease mode, this node is the leader and may serve
	// lease reads now.
	LeaseValid bool
	// PendingPromotion is the learner the leader will promote once caught up.
	PendingPromotion string
	// Match is the leader's view of each member's replicated index.
	Match map[string]uint64
}

// Status reports the node's current state.
func (n *RawNode) Status() Status {
	s := Status{
		ID: n.id, Role: n.reportedRole(), Term: n.term, Vote: n.vote, Lead: n.lead,
		Commit: n.log.committed, Applied: n.log.applied,
		LastIndex: n.log.lastIndex(), LastTerm: n.log.lastTerm(), SnapshotIndex: n.log.snapIndex,
		Membership: n.membership.Clone(), ConfigIndex: n.configIndex,
		LeaseValid: n.cfg.ReadMode == ReadLease && n.leaseValid(), PendingPromotion: n.pendingPromotion,
	}
	if n.role == Leader {
		s.Match = map[string]uint64{}
		for id, pr := range n.prs {
			s.Match[id] = pr.match
		}
	}
	return s
}

func (n *RawNode) reportedRole() Role {
	if n.role == Follower && n.membership.IsLearner(n.id) {
		return Learner
	}
	return n.role
}

func (n *RawNode) softState() SoftState { return SoftState{Lead: n.lead, Role: n.reportedRole()} }

func (n *RawNode) hardState() HardState {
	return HardState{Term: n.term, Vote: n.vote, Commit: n.log.committed}
}

// HasReady reports whether Ready would return any work.
func (n *RawNode) HasReady() bool {
	if n.softState() != n.prevSoft || n.hardState() != n.prevHard {
		return true
	}
	if n.pendingSnapshot != nil || n.log.stabled < n.log.lastIndex() {
		return true
	}
	if n.log.committed > max(n.log.applied, n.log.snapIndex) {
		return true
	}
	return len(n.msgs) > 0 || len(n.readStates) > 0 || len(n.droppedReads) > 0
}

// Ready returns the next batch of work (see the Ready type for the order the
// server must follow). Call Advance with it before calling Ready again.
func (n *RawNode) Ready() Ready {
	rd := Ready{}
	if ss := n.softState(); ss != n.prevSoft {
		rd.SoftState = &ss
		n.prevSoft = ss
	}
	hs := n.hardState()
	if hs != n.prevHard {
		rd.HardState = hs
		rd.MustSync = hs.Term != n.prevHard.Term || hs.Vote != n.prevHard.Vote
		n.prevHard = hs
	}
	rd.Snapshot = n.pendingSnapshot
	rd.Entries = n.log.unstable()
	if n.pendingSnapshot == nil {
		rd.CommittedEntries = n.log.nextCommitted()
	}
	rd.Messages, n.msgs = n.msgs, nil
	rd.ReadStates, n.readStates = n.readStates, nil
	rd.DroppedReads, n.droppedReads = n.droppedReads, nil
	rd.MustSync = rd.MustSync || rd.Snapshot != nil || len(rd.Entries) > 0
	return rd
}

// Advance tells the node the server has done everything rd asked for. The
// leader counts its own entries towards commitment only from here (once they
// are durable), so a single-voter cluster commits on the following Ready.
func (n *RawNode) Advance(rd Ready) {
	if s := rd.Snapshot; s != nil {
		if n.pendingSnapshot == s {
			n.pendingSnapshot = nil
		}
		n.log.stabled = max(n.log.stabled, s.Meta.Index)
		n.log.applied = max(n.log.applied, s.Meta.Index)
	}
	if k := len(rd.Entries); k > 0 {
		last := rd.Entries[k-1]
		// Only if that entry is still ours: a truncation since Ready has
		// already lowered stabled.
		if n.log.matchTerm(last.Index, last.Term) && last.Index > n.log.stabled {
			n.log.stabled = last.Index
		}
	}
	if k := len(rd.CommittedEntries); k > 0 {
		n.log.applied = max(n.log.applied, rd.CommittedEntries[k-1].Index)
	}
	n.selfPersisted()
}

// send queues a message stamped with our id and term (unless already set).
func (n *RawNode) send(m Message) {
	m.From = n.id
	if m.Term == 0 {
		m.Term = n.term
	}
	n.msgs = append(n.msgs, m)
}

// peers lists every member but us: the recipients of appends and heartbeats.
// It is recomputed only when the configuration changes.
func (n *RawNode) peers() []string { return n.peerIDs }
