package raft

import "fmt"

// This file holds log compaction and InstallSnapshot: the leader streams its
// latest snapshot to a follower that needs compacted entries, one chunk at a
// time, each acknowledged with the byte offset the follower holds; the
// follower assembles the chunks in memory and installs the whole image.

type incomingSnapshot struct {
	meta SnapshotMeta
	buf  []byte
}

// Compact records that the server snapshotted its state machine at applied
// index (data is the image) and drops the log up to and including index. The
// snapshot is kept for followers that need it.
func (n *RawNode) Compact(index uint64, data []byte) error {
	if index <= n.log.snapIndex {
		return fmt.Errorf("raft: compact at %d: %w (snapshot index is %d)", index, ErrCompacted, n.log.snapIndex)
	}
	if index > n.log.applied {
		return fmt.Errorf("raft: compact at %d: beyond the applied index %d", index, n.log.applied)
	}
	term, _ := n.log.term(index)
	m, _, _ := n.membershipAt(index)
	n.log.compact(&Snapshot{Meta: SnapshotMeta{Index: index, Term: term, Membership: m}, Data: data})
	return nil
}

// startSnapshotTransfer switches a follower to snapshot state and sends the
// first chunk of the latest snapshot.
func (n *RawNode) startSnapshotTransfer(to string, pr *progress) bool {
	if n.log.snapshot == nil {
		return false // nothing compacted: cannot happen, entries from 1 exist
	}
	pr.becomeSnapshot(n.log.snapIndex)
	n.sendSnapshotChunk(to, pr)
	return true
}

func (n *RawNode) sendSnapshotChunk(to string, pr *progress) {
	snap := n.log.snapshot
	if pr.snapIndex != snap.Meta.Index {
		// We compacted again meanwhile: send the newer image from the start.
		pr.snapIndex, pr.snapOffset = snap.Meta.Index, 0
	}
	size := uint64(len(snap.Data))
	off := min(pr.snapOffset, size)
	end := min(off+uint64(n.cfg.SnapshotChunkSize), size)
	meta := snap.Meta
	meta.Membership = meta.Membership.Clone()
	n.send(Message{Type: MsgSnap, To: to, SnapMeta: &meta, Offset: off, Data: snap.Data[off:end:end], Done: end == size})
	pr.snapStall = 0
}

// tickSnapshotTransfers resends the outstanding chunk to followers that have
// not answered for an election timeout (the chunk or its ack was lost).
func (n *RawNode) tickSnapshotTransfers() {
	for _, id := range n.peers() {
		pr := n.prs[id]
		if pr == nil || pr.state != stateSnapshot {
			continue
		}
		pr.snapStall++
		if pr.snapStall >= n.cfg.ElectionTick {
			n.sendSnapshotChunk(id, pr)
		}
	}
}

// handleSnapshotResp moves a transfer on: next chunk, restart at the offset
// the follower holds, or back to appends once installed.
func (n *RawNode) handleSnapshotResp(m Message, pr *progress) {
	if pr.state != stateSnapshot {
		return
	}
	if m.Done {
		pr.maybeUpdate(min(m.Index, n.log.lastIndex()))
		pr.becomeProbe()
		n.sendAppend(m.From, true)
		return
	}
	if m.Index != pr.snapIndex || m.Index != n.log.snapIndex {
		return // about an older image
	}
	switch {
	case m.Reject:
		pr.snapOffset = m.Offset
	case m.Offset > pr.snapOffset:
		pr.snapOffset = m.Offset
	default:
		return // duplicate ack
	}
	n.sendSnapshotChunk(m.From, pr)
}

// handleSnapshotChunk is the follower side of InstallSnapshot.
func (n *RawNode) handleSnapshotChunk(m Message) {
	meta := *m.SnapMeta
	reply := func(r Message) {
		r.Type, r.To = MsgSnapResp, m.From
		n.send(r)
	}
	if meta.Index <= n.log.committed {
		n.incoming = nil
		reply(Message{Index: n.log.committed, Done: true})
		return
	}
	if n.log.matchTerm(meta.Index, meta.Term) {
		// We hold that entry already: it is committed, and our log after it
		// may hold entries the leader counted. Keep the log, skip the image.
		n.incoming = nil
		n.log.commitTo(meta.Index)
		reply(Message{Index: meta.Index, Done: true})
		return
	}
	in := n.incoming
	same := in != nil && in.meta.Index == meta.Index && in.meta.Term == meta.Term
	switch {
	case m.Offset == 0:
		in = &incomingSnapshot{meta: meta}
		n.incoming = in
	case !same:
		reply(Message{Index: meta.Index, Reject: true, Offset: 0})
		return
	case m.Offset != uint64(len(in.buf)):
		reply(Message{Index: meta.Index, Reject: true, Offset: uint64(len(in.buf))})
		return
	}
	in.buf = append(in.buf, m.Data...)
	if !m.Done {
		reply(Message{Index: meta.Index, Offset: uint64(len(in.buf))})
		return
	}
	n.incoming = nil
	snap := &Snapshot{Meta: meta, Data: in.buf}
	n.log.restore(snap)
	n.pendingSnapshot = snap
	n.refreshMembership()
	reply(Message{Index: meta.Index, Done: true})
}

// LatestSnapshot returns the snapshot the log currently starts from (set by
// Compact, by an installed InstallSnapshot, or restored from Config), or nil.
// The server persists it after Compact; it must not modify it.
func (n *RawNode) LatestSnapshot() *Snapshot { return n.log.snapshot }
