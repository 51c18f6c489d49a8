package raft

import "fmt"

// raftLog is the in-memory log: an optional snapshot followed by the entries
// after it. The server mirrors it durably; stabled says how far the server has
// confirmed persisting it (entries after stabled go out in Ready.Entries).
type raftLog struct {
	snapshot  *Snapshot // the latest snapshot, nil before the first one
	snapIndex uint64
	snapTerm  uint64
	entries   []Entry // entries[i].Index == snapIndex+1+i

	committed uint64
	applied   uint64
	stabled   uint64
}

func (l *raftLog) firstIndex() uint64 { return l.snapIndex + 1 }

func (l *raftLog) lastIndex() uint64 { return l.snapIndex + uint64(len(l.entries)) }

func (l *raftLog) lastTerm() uint64 {
	t, _ := l.term(l.lastIndex())
	return t
}

// term returns the term of entry i; false when i is compacted away (below the
// snapshot) or beyond the log.
func (l *raftLog) term(i uint64) (uint64, bool) {
	switch {
	case i == l.snapIndex:
		return l.snapTerm, true
	case i < l.snapIndex || i > l.lastIndex():
		return 0, false
	}
	return l.entries[i-l.snapIndex-1].Term, true
}

func (l *raftLog) matchTerm(i, term uint64) bool {
	t, ok := l.term(i)
	return ok && t == term
}

// entry returns entry i, which must lie in (snapIndex, lastIndex].
func (l *raftLog) entry(i uint64) Entry { return l.entries[i-l.snapIndex-1] }

// slice returns entries [lo, hi), capped so that a caller appending to the
// result can never write into the log's backing array.
func (l *raftLog) slice(lo, hi uint64) []Entry {
	if lo <= l.snapIndex {
		panic(fmt.Sprintf("raft: slice from %d below first index %d", lo, l.firstIndex()))
	}
	hi = min(hi, l.lastIndex()+1)
	if lo >= hi {
		return nil
	}
	a, b := lo-l.snapIndex-1, hi-l.snapIndex-1
	return l.entries[a:b:b]
}

// isUpToDate is the vote restriction: a log ending (term, index) is at least
// as up-to-date as ours when its last term is higher, or equal with an index
// at least as high.
func (l *raftLog) isUpToDate(index, term uint64) bool {
	lt := l.lastTerm()
	return term > lt || (term == lt && index >= l.lastIndex())
}

// appendNew appends entries that start right after the last one.
func (l *raftLog) appendNew(ents ...Entry) {
	if len(ents) == 0 {
		return
	}
	if ents[0].Index != l.lastIndex()+1 {
		panic(fmt.Sprintf("raft: append at %d, last index is %d", ents[0].Index, l.lastIndex()))
	}
	l.entries = append(l.entries, ents...)
}

// truncateAndAppend replaces everything from ents[0].Index on. The full slice
// expression forces a copy, so entries handed out earlier stay intact.
func (l *raftLog) truncateAndAppend(ents []Entry) {
	from := ents[0].Index
	if from == l.lastIndex()+1 {
		// Nothing to replace: a plain append. Slices handed out earlier are
		// capped at their length, so growing in place cannot touch them.
		l.entries = append(l.entries, ents...)
		return
	}
	if from <= l.snapIndex || from > l.lastIndex()+1 {
		panic(fmt.Sprintf("raft: truncate at %d outside (%d, %d]", from, l.snapIndex, l.lastIndex()+1))
	}
	keep := from - l.snapIndex - 1
	l.entries = append(l.entries[:keep:keep], ents...)
	l.stabled = min(l.stabled, from-1)
	// Replacing committed entries never happens in a correct cluster; under
	// a planted bug it can. Keep committed within the log so the node goes
	// on working (the lost entries are what the checker should find).
	l.committed = min(l.committed, l.lastIndex())
}

// findConflict returns the index of the first entry of ents that is not in the
// log (missing, or present with another term), or 0 when all of them are
// already there: a stale duplicate must never truncate anything.
func (l *raftLog) findConflict(ents []Entry) uint64 {
	for _, e := range ents {
		if e.Index <= l.snapIndex {
			continue // covered by the snapshot, hence committed and equal
		}
		if !l.matchTerm(e.Index, e.Term) {
			return e.Index
		}
	}
	return 0
}

// maybeAppend is the follower side of AppendEntries. It returns the index of
// the last entry the message proves we share with the leader, or false when
// the consistency check on (prevIndex, prevTerm) fails.
func (l *raftLog) maybeAppend(prevIndex, prevTerm, leaderCommit uint64, ents []Entry) (uint64, bool) {
	if !l.matchTerm(prevIndex, prevTerm) {
		return 0, false
	}
	lastNew := prevIndex + uint64(len(ents))
	if ci := l.findConflict(ents); ci != 0 {
		l.truncateAndAppend(ents[ci-prevIndex-1:])
	}
	l.commitTo(min(leaderCommit, lastNew))
	return lastNew, true
}

// commitTo raises the commit index (never lowers it) up to the last entry.
func (l *raftLog) commitTo(i uint64) {
	i = min(i, l.lastIndex())
	if i > l.committed {
		l.committed = i
	}
}

// unstable returns the entries the server has not yet persisted.
func (l *raftLog) unstable() []Entry {
	if l.stabled >= l.lastIndex() {
		return nil
	}
	return l.slice(max(l.stabled, l.snapIndex)+1, l.lastIndex()+1)
}

// nextCommitted returns the committed entries not yet applied.
func (l *raftLog) nextCommitted() []Entry {
	lo := max(l.applied, l.snapIndex) + 1
	if lo > l.committed {
		return nil
	}
	return l.slice(lo, l.committed+1)
}

// conflictHint is the follower's back-off hint on a rejected append: the
// largest index <= min(index, lastIndex) whose term is <= term, with that
// term. The leader can skip straight past a whole conflicting term.
func (l *raftLog) conflictHint(index, term uint64) (uint64, uint64) {
	i := min(index, l.lastIndex())
	for i > l.snapIndex {
		t, _ := l.term(i)
		if t <= term {
			return i, t
		}
		i--
	}
	return l.snapIndex, l.snapTerm
}

// compact drops entries up to and including index, keeping snap as the new
// base of the log.
func (l *raftLog) compact(snap *Snapshot) {
	idx := snap.Meta.Index
	keepFrom := idx - l.snapIndex // entries after idx start here
	l.entries = append([]Entry(nil), l.entries[keepFrom:]...)
	l.snapshot, l.snapIndex, l.snapTerm = snap, idx, snap.Meta.Term
}

// restore replaces the whole log by a snapshot received from the leader.
func (l *raftLog) restore(snap *Snapshot) {
	l.snapshot, l.snapIndex, l.snapTerm = snap, snap.Meta.Index, snap.Meta.Term
	l.entries = nil
	l.committed = snap.Meta.Index
	l.stabled = snap.Meta.Index
}
