package raft

import "slices"

// This file tracks which configuration is in force: always the latest one in
// the log, committed or not, reverting to the previous one when a conflicting
// suffix holding a configuration is truncated.

// refreshMembership recomputes the configuration from scratch: the latest
// EntryConfig in the log, else the snapshot's, else the bootstrap one.
func (n *RawNode) refreshMembership() {
	m, idx, term := n.membershipAt(n.log.lastIndex())
	n.setMembership(m, idx, term)
}

// membershipAt returns the configuration in force at log index i, with the
// index and term of the entry that set it.
func (n *RawNode) membershipAt(i uint64) (Membership, uint64, uint64) {
	for j := min(i, n.log.lastIndex()); j > n.log.snapIndex; j-- {
		e := n.log.entry(j)
		if e.Type != EntryConfig {
			continue
		}
		if m, err := DecodeMembership(e.Data); err == nil {
			return m, e.Index, e.Term
		}
	}
	if s := n.log.snapshot; s != nil {
		return s.Meta.Membership.Clone(), s.Meta.Index, s.Meta.Term
	}
	return n.bootstrap.Clone(), 0, 0
}

// noteConfigEntries adopts the last configuration among newly stored entries.
func (n *RawNode) noteConfigEntries(ents []Entry) {
	for i := len(ents) - 1; i >= 0; i-- {
		e := ents[i]
		if e.Type != EntryConfig || e.Index <= n.configIndex {
			continue
		}
		if m, err := DecodeMembership(e.Data); err == nil {
			n.setMembership(m, e.Index, e.Term)
		}
		return
	}
}

func (n *RawNode) setMembership(m Membership, index, term uint64) {
	n.membership, n.configIndex, n.configTerm = m, index, term
	n.peerIDs = slices.DeleteFunc(m.Members(), func(id string) bool { return id == n.id })
	if n.role == Leader {
		n.syncProgress()
		if n.pendingPromotion != "" && !m.IsLearner(n.pendingPromotion) {
			n.pendingPromotion, n.pendingRemoval = "", ""
		}
	}
}
