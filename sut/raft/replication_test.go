package raft

import (
	"fmt"
	"slices"
	"testing"
)

// Figure 7: whatever the followers' logs (missing entries, extra uncommitted
// entries, both), the leader of term 8 brings them all to its own log, using
// the consistency check and back-off; Log Matching is checked throughout.
func TestFigure7FollowersConvergeToLeader(t *testing.T) {
	ids := []string{"l", "a", "b", "c", "d", "e", "f"}
	net := newNetwork(t, ids)
	leader := []uint64{1, 1, 1, 4, 4, 5, 5, 6, 6, 6}
	net.load("l", 7, 0, leader...)
	net.load("a", 7, 0, 1, 1, 1, 4, 4, 5, 5, 6, 6)
	net.load("b", 7, 0, 1, 1, 1, 4)
	net.load("c", 7, 0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6)
	net.load("d", 7, 0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7)
	net.load("e", 7, 0, 1, 1, 1, 4, 4, 4, 4)
	net.load("f", 7, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3)
	net.forgetLeader(ids...)
	net.elect("l")
	for i := 0; i < 5; i++ {
		net.tickAll()
		net.deliverAll()
	}
	want := append(slices.Clone(leader), 8)
	for _, id := range ids {
		if got := net.logTerms(id); !slices.Equal(got, want) {
			t.Errorf("%s log terms %v, want %v", id, got, want)
		}
		if c := net.node(id).log.committed; c != 11 {
			t.Errorf("%s commit %d, want 11", id, c)
		}
	}
}

// A delayed duplicate of an old AppendEntries must not truncate entries that
// arrived later (§5.3: truncate only on a real conflict).
func TestStaleDuplicateAppendNeverTruncates(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.propose("n1", "a")
	var old Message
	for _, m := range net.queue {
		if m.Type == MsgApp && m.To == "n2" && len(m.Entries) > 0 {
			old = m
		}
	}
	net.deliverAll()
	net.propose("n1", "b")
	net.propose("n1", "c")
	net.deliverAll()
	before := net.node("n2").log.lastIndex()
	if err := net.node("n2").Step(old); err != nil {
		t.Fatal(err)
	}
	net.process("n2")
	if after := net.node("n2").log.lastIndex(); after != before {
		t.Fatalf("stale duplicate changed n2's last index %d -> %d", before, after)
	}
	// Idempotent: the follower just acknowledges again.
	net.deliverAll()
	if net.node("n1").log.committed != before {
		t.Fatal("leader commit regressed or stalled")
	}
}

// Fast back-off: a follower far behind with a long conflicting suffix is
// repaired in a few round trips, not one per entry.
func TestFastBackoffSkipsConflictingTerms(t *testing.T) {
	net := newNetwork(t, three)
	long := []uint64{1}
	for i := 0; i < 60; i++ {
		long = append(long, 2)
	}
	net.load("n1", 3, 1, append([]uint64{1}, repeat(3, 60)...)...)
	net.load("n2", 3, 1, append([]uint64{1}, repeat(3, 60)...)...)
	net.load("n3", 2, 1, long...)
	net.forgetLeader(three...)
	net.campaign("n1")
	rejects := 0
	for len(net.queue) > 0 {
		if m := net.queue[0]; m.Type == MsgAppResp && m.Reject {
			rejects++
		}
		net.deliver(0)
	}
	if rejects == 0 || rejects > 3 {
		t.Fatalf("%d rejections to repair a 60-entry conflict: back-off is not fast", rejects)
	}
	if got, want := net.logTerms("n3"), net.logTerms("n1"); !slices.Equal(got, want) {
		t.Fatalf("n3 not repaired: %v vs %v", got, want)
	}
}

func repeat(term uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = term
	}
	return out
}

// Pipelining: a replicating follower gets several appends in flight, never
// more than MaxInflightMsgs, each at most MaxEntriesPerMsg entries.
func TestPipeliningRespectsInflightWindow(t *testing.T) {
	net := newNetwork(t, three, func(c *Config) { c.MaxInflightMsgs = 3; c.MaxEntriesPerMsg = 2 })
	net.elect("n1")
	for i := 0; i < 20; i++ {
		net.propose("n1", fmt.Sprint(i))
	}
	inflight := 0
	for _, m := range net.queue {
		if m.Type == MsgApp && m.To == "n2" && len(m.Entries) > 0 {
			inflight++
			if len(m.Entries) > 2 {
				t.Fatalf("append with %d entries, limit 2", len(m.Entries))
			}
		}
	}
	if inflight != 3 {
		t.Fatalf("%d appends in flight to n2, want the window of 3", inflight)
	}
	net.deliverAll()
	if c := net.node("n2").log.committed; c != 21 {
		// committed learns via the next append/heartbeat
		net.tickAll()
		net.deliverAll()
	}
	if c := net.node("n2").log.committed; c != 21 {
		t.Fatalf("n2 commit %d, want 21", c)
	}
}

// AppendEntries is retried indefinitely: after losing every message to a
// follower for a while, heartbeats re-trigger replication until it catches up.
func TestReplicationRetriedAfterLoss(t *testing.T) {
	net := newNetwork(t, three, func(c *Config) { c.MaxInflightMsgs = 2; c.MaxEntriesPerMsg = 1 })
	net.elect("n1")
	net.isolate("n3")
	for i := 0; i < 10; i++ {
		net.propose("n1", fmt.Sprint(i))
		net.tick("n1")
		net.deliverAll()
	}
	net.heal()
	for i := 0; i < 20 && net.node("n3").log.committed < net.node("n1").log.committed; i++ {
		net.tickAll()
		net.deliverAll()
	}
	if a, b := net.node("n3").log.committed, net.node("n1").log.committed; a != b {
		t.Fatalf("n3 commit %d, leader %d: lost appends were not retried", a, b)
	}
}

// A follower commits min(leaderCommit, index of the last new entry): it never
// marks committed an entry the message did not prove it shares.
func TestFollowerCommitIsBoundedByLastNewEntry(t *testing.T) {
	net := newNetwork(t, three)
	net.load("n2", 2, 0, 1, 1, 2, 2, 2) // a longer stale tail from term 2
	n2 := net.node("n2")
	err := n2.Step(Message{Type: MsgApp, From: "n1", To: "n2", Term: 3, Index: 1, LogTerm: 1,
		Entries: []Entry{{Term: 1, Index: 2}}, Commit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if n2.log.committed != 2 {
		t.Fatalf("follower commit %d, want min(leaderCommit 5, last new 2) = 2", n2.log.committed)
	}
	if n2.log.lastIndex() != 5 {
		t.Fatalf("matching entries must not truncate the tail: last %d", n2.log.lastIndex())
	}
}

// Re-replicated entries keep their original terms (§5.4.2).
func TestEntriesKeepOriginalTerms(t *testing.T) {
	net := newNetwork(t, three)
	net.load("n1", 2, 0, 1, 2, 2)
	net.load("n2", 2, 0, 1)
	net.load("n3", 2, 0, 1)
	net.forgetLeader(three...)
	net.elect("n1")
	net.deliverAll()
	if got := net.logTerms("n2"); !slices.Equal(got, []uint64{1, 2, 2, 3}) {
		t.Fatalf("n2 terms %v, want [1 2 2 3]", got)
	}
}

// State machine safety across crashes: every server applies the same
// sequence, and a restarted server re-applies from its durable log.
func TestStateMachineSafetyAcrossRestarts(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	for i := 0; i < 5; i++ {
		net.propose("n1", fmt.Sprint("w", i))
	}
	net.deliverAll()
	net.crash("n2")
	for i := 5; i < 8; i++ {
		net.propose("n1", fmt.Sprint("w", i))
	}
	net.deliverAll()
	net.restart("n2")
	for i := 0; i < 5; i++ {
		net.tickAll()
		net.deliverAll()
	}
	want := net.nodes["n1"].appliedData()
	if len(want) != 8 {
		t.Fatalf("leader applied %v", want)
	}
	for _, id := range three {
		if got := net.nodes[id].appliedData(); !slices.Equal(got, want) {
			t.Fatalf("%s applied %v, want %v", id, got, want)
		}
	}
}

// Log Matching (§5.3): after leaders come and go under partitions, any two
// logs that hold an entry with the same index and term are identical up to
// that index.
func TestLogMatchingProperty(t *testing.T) {
	net := newNetwork(t, five)
	groups := [][][]string{
		{{"n1", "n2"}, {"n3", "n4", "n5"}},
		{{"n1", "n2", "n3"}, {"n4", "n5"}},
		{{"n5", "n1"}, {"n2", "n3", "n4"}},
	}
	for round := 0; round < 12; round++ {
		net.partition(groups[round%3]...)
		for i := 0; i < 25; i++ {
			net.tickAll()
			for _, id := range net.leaders() {
				net.propose(id, fmt.Sprintf("r%d-%s-%d", round, id, i))
			}
			net.deliverAll()
		}
	}
	for _, a := range five {
		for _, b := range five {
			la, lb := net.node(a).log, net.node(b).log
			for i := min(la.lastIndex(), lb.lastIndex()); i >= 1; i-- {
				if la.matchTerm(i, la.entry(i).Term) && lb.matchTerm(i, la.entry(i).Term) {
					for j := uint64(1); j <= i; j++ {
						if entryKey(la.entry(j)) != entryKey(lb.entry(j)) {
							t.Fatalf("%s and %s agree at %d but differ at %d", a, b, i, j)
						}
					}
					break
				}
			}
		}
	}
	if net.maxCommit() < 20 {
		t.Fatalf("too little progress to be meaningful: commit %d", net.maxCommit())
	}
}

// A restarted server keeps ignoring vote requests for one minimum election
// timeout: before crashing it may have acknowledged a leader whose lease
// relies on it.
func TestRestartedServerHonoursLeaderLease(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.crash("n2")
	net.restart("n2")
	n2 := net.node("n2")
	term := n2.term
	_ = n2.Step(Message{Type: MsgVote, From: "n3", To: "n2", Term: term + 1, Index: 99, LogTerm: term})
	if n2.term != term {
		t.Fatal("restarted server accepted a vote request at once")
	}
	for i := 0; i < n2.cfg.ElectionTick; i++ {
		n2.Tick()
	}
	_ = n2.Step(Message{Type: MsgVote, From: "n3", To: "n2", Term: term + 1, Index: 99, LogTerm: term})
	if n2.term != term+1 || n2.vote != "n3" {
		t.Fatalf("after the quiet period the vote should count: term %d vote %q", n2.term, n2.vote)
	}
}
