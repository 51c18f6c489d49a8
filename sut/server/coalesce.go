package server

import "github.com/faultline/faultline/sut/raft"

// maxCoalescedBytes bounds the entry data of one merged append.
const maxCoalescedBytes = 1 << 20

// coalesceAppends merges back-to-back appends to the same peer into one.
// The core pipelines one MsgApp per proposal, so a round that took 64
// proposals would otherwise send 64 one-entry appends to every follower and
// get 64 acknowledgements back. An append whose entries continue exactly
// where the previous one to that peer ended (same term, its prevLogIndex and
// prevLogTerm are the previous one's last entry) carries nothing the merged
// message does not: the follower does the same work as for the two in a
// row, and its single acknowledgement of the last index releases both in
// the leader's inflight window, which is tracked by index.
func coalesceAppends(msgs []raft.Message) []raft.Message {
	if len(msgs) < 2 {
		return msgs
	}
	out := msgs[:0:0]
	last := map[string]int{} // peer -> index in out of its latest append
	size := map[string]int{}
	owned := map[int]bool{} // appends in out whose Entries are a copy of our own
	for _, m := range msgs {
		if m.Type != raft.MsgApp || len(m.Entries) == 0 {
			if m.Type != raft.MsgApp {
				// Anything else to this peer keeps its place between appends.
				delete(last, m.To)
			}
			out = append(out, m)
			continue
		}
		if i, ok := last[m.To]; ok && continues(&out[i], &m) && size[m.To]+entriesSize(m.Entries) <= maxCoalescedBytes {
			prev := &out[i]
			if !owned[i] {
				// The first merge copies the core's entries once, with room
				// to grow; later merges append in place.
				prev.Entries = append(make([]raft.Entry, 0, 4*(len(prev.Entries)+len(m.Entries))), prev.Entries...)
				owned[i] = true
			}
			prev.Entries = append(prev.Entries, m.Entries...)
			prev.Commit = max(prev.Commit, m.Commit)
			size[m.To] += entriesSize(m.Entries)
			continue
		}
		last[m.To] = len(out)
		size[m.To] = entriesSize(m.Entries)
		out = append(out, m)
	}
	return out
}

// continues reports whether next appends right after prev's last entry.
func continues(prev, next *raft.Message) bool {
	if prev.Term != next.Term || prev.From != next.From || prev.Context != next.Context || len(prev.Entries) == 0 {
		return false
	}
	tail := prev.Entries[len(prev.Entries)-1]
	return next.Index == tail.Index && next.LogTerm == tail.Term
}

func entriesSize(ents []raft.Entry) int {
	n := 0
	for i := range ents {
		n += len(ents[i].Data) + 24
	}
	return n
}
