package server

import (
	"time"

	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/raft"
	"github.com/faultline/faultline/sut/wal"
)

// applyTask is one Ready's worth of state-machine work, in log order.
type applyTask struct {
	snapshot *raft.Snapshot // installed first, when the leader sent one
	entries  []raft.Entry
}

// applier state; touched only by the applier goroutine after New.
type applier struct {
	applied      uint64
	appliedTerm  uint64
	conf         raft.Membership // configuration as of applied (for snapshot metadata)
	sinceCompact int
}

func (s *Server) newApplier(applied uint64, conf raft.Membership, st wal.State) {
	s.app = applier{applied: applied, conf: conf}
	if st.Snapshot != nil {
		s.app.appliedTerm = st.Snapshot.Meta.Term
	}
}

// applyLoop applies committed entries to the key-value store, answers the
// requests waiting on them and takes a snapshot every SnapshotEvery entries.
// It runs beside the drive loop so that applying never delays the next fsync
// or heartbeat; reads wait until it has caught up with their read index.
//
// Under an apply delay (POST /fault/slow) a task is applied only once it has
// waited that long since it arrived. The loop keeps taking tasks off applyQ
// meanwhile, holding them in lagged in log order, so the drive loop is never
// blocked by the lag: only the state machine is behind.
func (s *Server) applyLoop() {
	var lagged []laggedTask // arrived, not yet due; oldest first
	for {
		var due <-chan time.Time
		var changed <-chan struct{}
		var timer *time.Timer
		if len(lagged) > 0 {
			var wait time.Duration
			wait, changed = s.slow.applyDue(lagged[0].arrived)
			if wait <= 0 {
				s.applyTask(lagged[0].task)
				lagged[0] = laggedTask{}
				lagged = lagged[1:]
				continue
			}
			timer = time.NewTimer(wait)
			due = timer.C
		}
		select {
		case <-s.stop:
			return
		case task := <-s.applyQ:
			if len(lagged) == 0 && !s.slow.applyDelayed() {
				s.applyTask(task)
			} else {
				lagged = append(lagged, laggedTask{task: task, arrived: time.Now()})
			}
		case <-due:
		case <-changed:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// laggedTask is a task held by the apply delay.
type laggedTask struct {
	task    applyTask
	arrived time.Time
}

func (s *Server) applyTask(task applyTask) {
	s.applyHold.Lock()
	defer s.applyHold.Unlock()
	if task.snapshot != nil {
		s.install(task.snapshot)
	}
	for _, e := range task.entries {
		s.applyEntry(e)
	}
	s.reg.setApplied(s.app.applied)
	s.maybeSnapshot()
}

func (s *Server) install(snap *raft.Snapshot) {
	if snap.Meta.Index <= s.app.applied {
		return
	}
	if err := s.kv.Restore(snap.Data); err != nil {
		// The image was persisted already; an image we cannot read means
		// this node must not serve anything from now on.
		s.fail(err)
		return
	}
	s.app.applied = snap.Meta.Index
	s.app.appliedTerm = snap.Meta.Term
	s.app.conf = snap.Meta.Membership
	s.app.sinceCompact = 0
	// Proposals under the snapshot may or may not be in it.
	s.reg.failProposals(outcomeSnapshot, snap.Meta.Index)
	s.reg.configCommitted(snap.Meta.Membership)
	s.log.Info("snapshot installed", "index", snap.Meta.Index, "term", snap.Meta.Term, "keys", s.kv.Len())
}

func (s *Server) applyEntry(e raft.Entry) {
	if e.Index <= s.app.applied {
		return // covered by an installed snapshot
	}
	switch e.Type {
	case raft.EntryNormal:
		cmd, err := kv.DecodeCommand(e.Data)
		var res kv.Result
		if err != nil {
			// Only commands this server encoded get proposed; a command
			// that does not decode is skipped, loudly, on every replica.
			s.log.Error("skipping undecodable command", "index", e.Index, "err", err)
			s.kv.Advance(e.Index)
			res = kv.Result{Err: err.Error()}
		} else {
			res = s.kv.Apply(e.Index, cmd)
		}
		s.reg.proposalApplied(e.Index, e.Term, res)
	case raft.EntryConfig:
		s.kv.Advance(e.Index)
		m, err := raft.DecodeMembership(e.Data)
		if err != nil {
			s.log.Error("undecodable membership entry", "index", e.Index, "err", err)
		} else {
			s.app.conf = m
			s.log.Info("membership committed", "index", e.Index, "voters", m.Voters,
				"outgoing", m.Outgoing, "learners", m.Learners, "joint", m.Joint())
			s.reg.configCommitted(m)
		}
		s.reg.entryAt(e.Index, e.Term)
	default: // EntryNoOp
		s.kv.Advance(e.Index)
		s.reg.entryAt(e.Index, e.Term)
	}
	s.app.applied = e.Index
	s.app.appliedTerm = e.Term
	s.app.sinceCompact++
}

// maybeSnapshot hands an image of the store to the drive loop once enough
// entries were applied since the last one. If the drive loop has not taken
// the previous image yet, it tries again after the next batch.
func (s *Server) maybeSnapshot() {
	if s.app.sinceCompact < s.cfg.SnapshotEvery {
		return
	}
	data, err := s.kv.Snapshot()
	if err != nil {
		s.log.Error("snapshot failed", "index", s.app.applied, "err", err)
		return
	}
	snap := raft.Snapshot{
		Meta: raft.SnapshotMeta{Index: s.app.applied, Term: s.app.appliedTerm, Membership: s.app.conf},
		Data: data,
	}
	select {
	case s.snapshots <- snap:
		s.app.sinceCompact = 0
	default:
	}
}
