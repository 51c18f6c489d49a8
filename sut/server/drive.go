package server

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/raft"
)

// maxInputsPerRound bounds how many queued inputs the loop takes before it
// collects a Ready, so a flood of proposals still gets persisted in batches
// of a bounded size.
const maxInputsPerRound = 1024

// driveLoop is the only goroutine that touches the RawNode. Each round it
// takes one input (tick, peer message, client operation, finished snapshot),
// then every input already queued, and then processes the Ready batches they
// produced: everything queued while the previous round was fsyncing shares
// the next fsync.
func (s *Server) driveLoop() {
	st := s.rn.Status()
	ls := &loopState{role: st.Role, term: st.Term, vote: st.Vote}
	for {
		select {
		case <-s.stop:
			return
		case <-s.ticker.signal:
			s.tick()
		case m := <-s.inbound:
			s.step(m)
		case op := <-s.ops:
			op()
		case snap := <-s.snapshots:
			if err := s.compact(snap); err != nil {
				s.fail(err)
				return
			}
		}
		s.drainInputs()
		for s.rn.HasReady() {
			rd := s.rn.Ready()
			if err := s.handleReady(rd, ls); err != nil {
				s.fail(err)
				return
			}
			s.rn.Advance(rd)
		}
		s.publishStatus()
	}
}

func (s *Server) tick() {
	for n := s.ticker.take(); n > 0; n-- {
		s.rn.Tick()
	}
}

func (s *Server) step(m raft.Message) {
	if err := s.rn.Step(m); err != nil {
		s.log.Debug("message refused", "type", m.Type, "from", m.From, "term", m.Term, "err", err)
	}
}

func (s *Server) drainInputs() {
	for i := 0; i < maxInputsPerRound; i++ {
		select {
		case m := <-s.inbound:
			s.step(m)
		case op := <-s.ops:
			op()
		case <-s.ticker.signal:
			s.tick()
		default:
			return
		}
	}
}

// loopState is what the drive loop remembers between Ready batches.
type loopState struct {
	role raft.Role
	term uint64 // durable term
	vote string // durable vote
}

// handleReady does what types.go prescribes, in order: persist, send, apply
// (handed to the applier, which keeps log order), release reads.
//
// Two reorderings, both for throughput and both safe:
//
//   - Committed entries that are not part of this batch were persisted in an
//     earlier one; they are handed to the applier before this batch's fsync,
//     so acknowledging a write never waits for the disk write of proposals
//     that arrived after it.
//   - A leader's replication messages (append, heartbeat, snapshot) go out
//     before its own fsync, so the followers' disk writes overlap the
//     leader's (Raft thesis, section 10.2.1). They promise nothing about the
//     leader's disk, and the leader cannot count itself towards a commit
//     before its fsync is done: acknowledgements are stepped in a later
//     round of this goroutine, after this fsync returned. This is done only
//     when the batch does not change the term or vote: a leader must never
//     act in a term it could forget.
func (s *Server) handleReady(rd raft.Ready, ls *loopState) error {
	termStable := rd.HardState.IsEmpty() || (rd.HardState.Term == ls.term && rd.HardState.Vote == ls.vote)
	rd.Messages = coalesceAppends(rd.Messages)
	late := rd.Messages
	if termStable && ls.role == raft.Leader {
		var early []raft.Message
		early, late = splitReplication(rd.Messages)
		if len(early) > 0 {
			s.sendPeers(early)
		}
	}

	// Committed entries that were already durable before this batch (all of
	// them but those in rd.Entries) are applied now, while this batch is
	// being fsynced: a write acknowledged here does not wait for the disk
	// write of the proposals that arrived after it.
	applyNow, applyLater := rd.CommittedEntries, []raft.Entry(nil)
	if rd.Snapshot != nil {
		applyNow, applyLater = nil, rd.CommittedEntries
	} else if len(rd.Entries) > 0 {
		first := rd.Entries[0].Index
		cut := len(applyNow)
		for cut > 0 && applyNow[cut-1].Index >= first {
			cut--
		}
		applyNow, applyLater = applyNow[:cut], applyNow[cut:]
	}
	if len(applyNow) > 0 && !s.enqueueApply(applyTask{entries: applyNow}) {
		return nil
	}

	// 1. Persist: the snapshot first, then entries and hard state with one
	// fsync for the whole batch.
	if rd.Snapshot != nil {
		if err := s.wal.SaveSnapshot(*rd.Snapshot); err != nil {
			return fmt.Errorf("persist received snapshot at index %d: %w", rd.Snapshot.Meta.Index, err)
		}
		s.log.Info("snapshot received", "index", rd.Snapshot.Meta.Index, "term", rd.Snapshot.Meta.Term, "bytes", len(rd.Snapshot.Data))
	}
	if !rd.HardState.IsEmpty() || len(rd.Entries) > 0 {
		if rd.MustSync {
			s.slow.waitSync(s.stop) // a slow disk (POST /fault/slow)
		}
		start := time.Now()
		sync := rd.MustSync
		if s.cfg.Bugs.Has(bugs.AckBeforeFsync) {
			// PLANTED BUG ack-before-fsync: entries and votes are written
			// but not fsynced, and acknowledged (to peers and clients) as
			// if durable; the WAL syncs only when it rotates a segment. A
			// crash keeps them in the page cache; a power failure of a
			// majority loses acknowledged writes.
			sync = false
		}
		if err := s.wal.Save(rd.HardState, rd.Entries, sync); err != nil {
			return fmt.Errorf("persist %d entries and hard state: %w", len(rd.Entries), err)
		}
		s.stats.persisted(len(rd.Entries), sync, time.Since(start))
	}
	s.stats.readies.Add(1)
	for _, e := range rd.Entries {
		s.reg.entryAt(e.Index, e.Term)
		if e.Type == raft.EntryConfig {
			if m, err := raft.DecodeMembership(e.Data); err == nil {
				s.log.Info("membership entry appended", "index", e.Index, "term", e.Term,
					"voters", m.Voters, "outgoing", m.Outgoing, "learners", m.Learners)
			}
		}
	}
	if s.cfg.Bugs.Has(bugs.AckBeforeCommit) && ls.role == raft.Leader {
		// PLANTED BUG ack-before-commit: the leader acknowledges its own
		// proposals as soon as they are in its local log, with a result
		// computed against the state applied so far, before any follower
		// has them. A partition now loses acknowledged writes.
		for _, e := range rd.Entries {
			if w := s.reg.takeProposal(e.Index); w != nil {
				answer(w.ch, outcome{result: speculate(s.kv, w.cmd)})
			}
		}
	}
	if !rd.HardState.IsEmpty() {
		if rd.HardState.Term != ls.term {
			s.log.Info("term changed", "from", ls.term, "to", rd.HardState.Term, "vote", rd.HardState.Vote)
		}
		ls.term, ls.vote = rd.HardState.Term, rd.HardState.Vote
	}
	m := s.rn.Membership()
	s.members.Store(&m)

	// 2. Send, now that what the messages promise is durable.
	if len(late) > 0 {
		s.sendPeers(late)
	}

	// 3. Apply the rest, in order, on the applier goroutine.
	if rd.Snapshot != nil || len(applyLater) > 0 {
		if !s.enqueueApply(applyTask{snapshot: rd.Snapshot, entries: applyLater}) {
			return nil
		}
	}

	// 4. Reads.
	for _, rs := range rd.ReadStates {
		// PLANTED BUG follower-read-no-wait: the read is answered as soon as
		// the core confirms the read index, without waiting until this node
		// has applied up to it; a leader that is behind on applying (just
		// elected, under load) serves a stale value.
		wait := !s.cfg.Bugs.Has(bugs.FollowerReadNoWait)
		s.reg.readReleased(rs.RequestCtx, rs.Index, wait)
	}
	for _, ctx := range rd.DroppedReads {
		s.reg.readDropped(ctx)
	}

	// Role changes come last so that an overwrite seen in this batch is
	// reported as the definite failure it is, not as "unknown".
	if rd.SoftState != nil {
		if rd.SoftState.Role != ls.role {
			s.log.Info("role changed", "from", ls.role.String(), "to", rd.SoftState.Role.String(),
				"term", ls.term, "leader", rd.SoftState.Lead)
			if ls.role == raft.Leader {
				s.reg.failProposals(outcomeLeaderLost, 0)
			}
			ls.role = rd.SoftState.Role
		} else {
			s.log.Info("leader changed", "leader", rd.SoftState.Lead, "term", ls.term)
		}
	}
	return nil
}

// enqueueApply hands a task to the applier; false if the server stops.
func (s *Server) enqueueApply(task applyTask) bool {
	select {
	case s.applyQ <- task:
		return true
	case <-s.stop:
		return false
	}
}

// splitReplication separates a leader's replication messages, which may be
// sent before its fsync, from the rest.
func splitReplication(msgs []raft.Message) (early, late []raft.Message) {
	for _, m := range msgs {
		switch m.Type {
		case raft.MsgApp, raft.MsgHeartbeat, raft.MsgSnap:
			early = append(early, m)
		default:
			late = append(late, m)
		}
	}
	return early, late
}

// compact persists an image the applier took and lets the core drop the log
// it covers.
func (s *Server) compact(snap raft.Snapshot) error {
	if snap.Meta.Index <= s.rn.Status().SnapshotIndex {
		return nil // a received snapshot already covers it
	}
	if err := s.wal.SaveSnapshot(snap); err != nil {
		return fmt.Errorf("persist snapshot at index %d: %w", snap.Meta.Index, err)
	}
	if err := s.rn.Compact(snap.Meta.Index, snap.Data); err != nil {
		s.log.Warn("core refused compaction", "index", snap.Meta.Index, "err", err)
		return nil
	}
	s.log.Info("snapshot taken", "index", snap.Meta.Index, "term", snap.Meta.Term, "bytes", len(snap.Data))
	return nil
}

// run executes op on the drive loop and waits for it, unless the server
// stops or done fires first.
func (s *Server) run(done <-chan struct{}, op func()) bool {
	finished := make(chan struct{})
	select {
	case s.ops <- func() { op(); close(finished) }:
	case <-s.stop:
		return false
	case <-done:
		return false
	}
	select {
	case <-finished:
		return true
	case <-s.stop:
		return false
	}
}
