package raft

import "github.com/faultline/faultline/sut/bugs"

// appendEntry appends one entry of the leader's term and returns its index.
func (n *RawNode) appendEntry(t EntryType, data []byte) uint64 {
	e := Entry{Term: n.term, Index: n.log.lastIndex() + 1, Type: t, Data: data}
	n.log.appendNew(e)
	if t == EntryConfig {
		n.noteConfigEntries([]Entry{e})
	}
	// Our own copy counts towards commitment only once the server reports
	// it durable (Advance): see selfPersisted.
	return e.Index
}

// syncProgress makes the leader track exactly the members of the latest
// configuration (plus itself).
func (n *RawNode) syncProgress() {
	want := map[string]bool{n.id: true}
	for _, id := range n.membership.Members() {
		want[id] = true
	}
	for id := range n.prs {
		if !want[id] {
			delete(n.prs, id)
		}
	}
	for id := range want {
		if n.prs[id] == nil {
			n.prs[id] = &progress{next: n.log.lastIndex() + 1, recentActive: true}
		}
	}
	n.prs[n.id].match = n.log.stabled
}

// selfPersisted counts the leader's own durable entries as replicated. The
// leader's copy counts only once it is on its disk, so a server that sends
// appends before its own fsync stays safe, and a single-voter cluster
// commits on the Ready after the one that persisted the entry.
func (n *RawNode) selfPersisted() {
	if n.role != Leader {
		return
	}
	if self := n.prs[n.id]; self != nil && self.maybeUpdate(n.log.stabled) && n.maybeCommit() {
		n.bcastAppendCommit()
	}
}

func (n *RawNode) bcastAppend() {
	for _, id := range n.peers() {
		n.sendAppend(id, false)
	}
}

// sendAppend sends the next batch of entries to one follower, respecting its
// replication state. With sendEmpty it sends an empty append even when there
// is nothing new (to carry the commit index or probe the follower).
func (n *RawNode) sendAppend(to string, sendEmpty bool) bool {
	pr := n.prs[to]
	if pr == nil {
		return false
	}
	switch pr.state {
	case stateSnapshot:
		return false
	case stateProbe:
		if pr.paused {
			return false
		}
	case stateReplicate:
		if len(pr.inflight) >= n.cfg.MaxInflightMsgs {
			return false
		}
	}
	// next never points past our log (an ack beyond it is ignored, but keep
	// the invariant local).
	pr.next = min(pr.next, n.log.lastIndex()+1)
	prevIndex := pr.next - 1
	prevTerm, ok := n.log.term(prevIndex)
	if !ok {
		// The entries this follower needs were compacted away.
		return n.startSnapshotTransfer(to, pr)
	}
	ents := n.log.slice(pr.next, pr.next+uint64(n.cfg.MaxEntriesPerMsg))
	if len(ents) == 0 && !sendEmpty && pr.state == stateReplicate {
		return false
	}
	n.send(Message{Type: MsgApp, To: to, Index: prevIndex, LogTerm: prevTerm, Entries: ents, Commit: n.log.committed})
	switch pr.state {
	case stateReplicate:
		if k := len(ents); k > 0 {
			pr.next = ents[k-1].Index + 1
			pr.inflight = append(pr.inflight, ents[k-1].Index)
		}
	case stateProbe:
		pr.paused = true
	}
	return true
}

// handleAppend is the follower side of AppendEntries.
func (n *RawNode) handleAppend(m Message) {
	if m.Index < n.log.committed {
		// Everything up to our commit index is already settled; tell the
		// leader where we stand instead of re-checking old entries.
		n.send(Message{Type: MsgAppResp, To: m.From, Index: n.log.committed})
		return
	}
	if lastNew, ok := n.log.maybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries); ok {
		n.noteAppended(m.Entries)
		n.send(Message{Type: MsgAppResp, To: m.From, Index: lastNew})
		return
	}
	hintIndex, hintTerm := n.log.conflictHint(m.Index, m.LogTerm)
	n.send(Message{Type: MsgAppResp, To: m.From, Index: m.Index, Reject: true, RejectHint: hintIndex, LogTerm: hintTerm})
}

// noteAppended updates the membership after entries from the leader landed
// (possibly replacing a conflicting suffix that held a configuration).
func (n *RawNode) noteAppended(ents []Entry) {
	if len(ents) == 0 {
		return
	}
	if n.configIndex > n.log.snapIndex && !n.log.matchTerm(n.configIndex, n.configTerm) {
		n.refreshMembership()
		return
	}
	n.noteConfigEntries(ents)
}

func (n *RawNode) handleHeartbeat(m Message) {
	// The leader sends min(its commit, our match), so this never commits an
	// entry we do not share with it.
	n.log.commitTo(m.Commit)
	n.send(Message{Type: MsgHeartbeatResp, To: m.From, Context: m.Context})
	if last := n.log.lastIndex(); m.Commit > last {
		// The leader believes we hold entries we do not: our disk lost
		// the tail of our log after we acknowledged it. On an idle
		// cluster no append would ever reveal it, so refuse the entry at
		// m.Commit as an append would, and the leader sends the rest.
		n.send(Message{Type: MsgAppResp, To: m.From, Index: m.Commit, Reject: true, RejectHint: last})
	}
}

func (n *RawNode) handleAppendResp(m Message, pr *progress) {
	if m.Reject && m.Index > 0 && m.Index == pr.match && m.RejectHint < pr.match {
		// The follower refuses the very entry it acknowledged: its disk
		// lost a suffix of its log (a damaged tail it truncated). Forget
		// what it acknowledged, which only holds back future commits, and
		// probe back from its hint so that it fetches the entries again
		// instead of being refused forever. (A stale duplicate of an old
		// refusal costs one probe round.)
		pr.match = 0
		pr.becomeProbe()
		pr.next = m.Index + 1
	}
	if m.Reject {
		next := m.RejectHint + 1
		if m.LogTerm > 0 {
			// Skip every entry of ours from terms the follower's hint
			// proves it does not share.
			idx, _ := n.log.conflictHint(m.RejectHint, m.LogTerm)
			next = idx + 1
		}
		if pr.maybeDecrTo(m.Index, next) {
			if pr.state == stateReplicate {
				pr.becomeProbe()
				pr.next = max(pr.match+1, min(m.Index, next))
			}
			n.sendAppend(m.From, true)
		}
		return
	}
	if m.Index > n.log.lastIndex() {
		// Acknowledges entries we do not have: only possible when a
		// planted bug broke safety. Ignore it rather than trust it.
		return
	}
	if !pr.maybeUpdate(m.Index) {
		return
	}
	switch {
	case pr.state == stateProbe:
		pr.becomeReplicate()
	case pr.state == stateSnapshot && pr.match >= pr.snapIndex:
		pr.becomeProbe()
	}
	if n.maybeCommit() {
		n.bcastAppendCommit()
	} else {
		for n.sendAppend(m.From, false) {
		}
	}
	n.maybeAdvanceMembership()
}

func (n *RawNode) handleHeartbeatResp(m Message, pr *progress) {
	pr.paused = false
	if pr.state == stateReplicate && len(pr.inflight) >= n.cfg.MaxInflightMsgs {
		// The window is full and the follower is alive: some append was
		// probably lost. Free a slot so replication retries.
		pr.inflight = pr.inflight[1:]
	}
	if pr.match < n.log.lastIndex() {
		n.sendAppend(m.From, true)
	}
	n.handleReadAck(m.From, m.Context)
}

// bcastAppendCommit spreads a new commit index (with any pending entries).
func (n *RawNode) bcastAppendCommit() {
	for _, id := range n.peers() {
		n.sendAppend(id, true)
	}
}

// maybeCommit applies the commit rule and reports whether the commit index
// moved: the highest index stored on a majority of C(new) (and, while joint,
// of C(old)) commits, but only if it is an entry of the current term; earlier
// entries then commit indirectly.
func (n *RawNode) maybeCommit() bool {
	if n.role != Leader || len(n.membership.Voters) == 0 {
		return false
	}
	q := jointValue(n.membership, func(id string) uint64 {
		if pr := n.prs[id]; pr != nil {
			return pr.match
		}
		return 0
	})
	if q <= n.log.committed {
		return false
	}
	t, _ := n.log.term(q)
	// PLANTED BUG commit-previous-term: replicas are counted for entries of
	// earlier terms too (the paper's Figure 8): such an entry can be
	// overwritten by a later leader after it was reported committed.
	if t != n.term && !n.cfg.Bugs.Has(bugs.CommitPreviousTerm) {
		return false
	}
	n.log.commitTo(q)
	n.afterCommit()
	return true
}

// afterCommit runs what a higher commit index unlocks on the leader.
func (n *RawNode) afterCommit() {
	n.releaseQueuedReads()
	n.maybeAdvanceMembership()
}

// committedInTerm: the leader has committed an entry of its own term, so its
// commit index is at least that of every earlier leader.
func (n *RawNode) committedInTerm() bool {
	t, ok := n.log.term(n.log.committed)
	return ok && t == n.term
}
