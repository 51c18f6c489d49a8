package raft

// This file is the safety checker the in-memory network runs after every
// step: election safety, Log Matching, leader completeness and state machine
// safety, over everything any server ever stored or applied.

// safety checks Raft's safety properties across the whole run.
type safety struct {
	leaderOf   map[uint64]string // election safety: term -> the one leader
	committed  map[uint64]string // state machine safety: index -> entry
	entryAt    map[[2]uint64]logFact
	violations []string
}

// logFact is what Log Matching pins down for an (index, term): the entry
// itself and the term of the entry before it.
type logFact struct {
	key      string
	prevTerm uint64
}

func newSafety() *safety {
	return &safety{leaderOf: map[uint64]string{}, committed: map[uint64]string{}, entryAt: map[[2]uint64]logFact{}}
}

// checkRoles: at most one leader per term, and a new leader holds every
// committed entry (leader completeness).
func (s *safety) checkRoles(net *network, tn *testNode) {
	n := tn.node
	if n.role != Leader {
		tn.wasLead = false
		return
	}
	if other, ok := s.leaderOf[n.term]; ok && other != tn.id {
		net.violation("election safety: %s and %s both lead term %d", other, tn.id, n.term)
	}
	s.leaderOf[n.term] = tn.id
	if tn.wasLead && tn.leadTerm == n.term {
		return
	}
	tn.wasLead, tn.leadTerm = true, n.term
	for idx, key := range s.committed {
		if idx <= n.log.snapIndex {
			continue
		}
		if idx > n.log.lastIndex() {
			net.violation("leader completeness: %s leads term %d without committed entry %d (%s); its last index is %d", tn.id, n.term, idx, key, n.log.lastIndex())
			continue
		}
		if got := entryKey(n.log.entry(idx)); got != key {
			net.violation("leader completeness: %s leads term %d with %s at %d, committed was %s", tn.id, n.term, got, idx, key)
		}
	}
}

// checkAppended: Log Matching, by induction on entries as they are stored:
// an (index, term) always names the same entry, preceded by the same term.
func (s *safety) checkAppended(net *network, tn *testNode, ents []Entry) {
	for _, e := range ents {
		prevTerm, ok := durableTerm(tn, e.Index-1)
		if !ok {
			net.violation("%s stored entry %d with no entry %d before it", tn.id, e.Index, e.Index-1)
			continue
		}
		fact := logFact{key: entryKey(e), prevTerm: prevTerm}
		k := [2]uint64{e.Index, e.Term}
		if old, ok := s.entryAt[k]; ok && old != fact {
			net.violation("log matching: %s stored %+v at (index %d, term %d), another log has %+v", tn.id, fact, e.Index, e.Term, old)
		}
		s.entryAt[k] = fact
	}
}

func durableTerm(tn *testNode, i uint64) (uint64, bool) {
	if i == 0 {
		return 0, true
	}
	if tn.snap != nil && i == tn.snap.Meta.Index {
		return tn.snap.Meta.Term, true
	}
	var base uint64
	if tn.snap != nil {
		base = tn.snap.Meta.Index
	}
	if i <= base || i > base+uint64(len(tn.ents)) {
		return 0, false
	}
	e := tn.ents[i-base-1]
	return e.Term, e.Index == i
}

// checkApplied: every server applies the same entry at each index.
func (s *safety) checkApplied(net *network, tn *testNode, e Entry) {
	key := entryKey(e)
	if old, ok := s.committed[e.Index]; ok && old != key {
		net.violation("state machine safety: %s applied %s at index %d, another server applied %s", tn.id, key, e.Index, old)
		return
	}
	s.committed[e.Index] = key
}

func (s *safety) checkSnapshotApplied(net *network, tn *testNode) {
	for i, key := range tn.applied {
		idx := uint64(i + 1)
		if old, ok := s.committed[idx]; ok && old != key {
			net.violation("state machine safety: %s installed a snapshot with %s at %d, another server applied %s", tn.id, key, idx, old)
		}
		s.committed[idx] = key
	}
}
