package raft

import (
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

var three = []string{"n1", "n2", "n3"}
var five = []string{"n1", "n2", "n3", "n4", "n5"}

// Election safety (§5.2): under repeated partitions and timeouts at most one
// leader is elected per term, and a leader is eventually elected.
func TestElectionSafetyAtMostOneLeaderPerTerm(t *testing.T) {
	net := newNetwork(t, five)
	elected := 0
	for round := 0; round < 30; round++ {
		switch round % 3 {
		case 0:
			net.partition([]string{"n1", "n2"}, []string{"n3", "n4", "n5"})
		case 1:
			net.partition([]string{"n1", "n2", "n3"}, []string{"n4", "n5"})
		default:
			net.heal()
		}
		for i := 0; i < 25; i++ {
			net.tickAll()
			net.deliverAll()
		}
		elected += len(net.leaders())
	}
	if elected == 0 {
		t.Fatal("no leader was ever elected")
	}
	if len(net.safety.leaderOf) < 3 {
		t.Fatalf("expected leaders in several terms, got %v", net.safety.leaderOf)
	}
	// The checker ran after every step; each term has exactly one leader.
	for term, id := range net.safety.leaderOf {
		if id == "" {
			t.Fatalf("term %d has no recorded leader", term)
		}
	}
}

// Split vote (§5.2): two candidates in the same term split the votes, neither
// wins, both time out with fresh random timeouts, and a later term elects one.
func TestSplitVoteTimesOutAndRetries(t *testing.T) {
	net := newNetwork(t, []string{"n1", "n2", "n3", "n4"})
	net.campaign("n1")
	net.campaign("n2")
	if net.node("n1").term != net.node("n2").term {
		t.Fatal("candidates should share a term")
	}
	// n3 hears n1 first, n4 hears n2 first: 2 votes each of 4, no majority.
	net.deliverWhere(func(m Message) bool {
		return m.Type == MsgVote && ((m.From == "n1" && m.To == "n3") || (m.From == "n2" && m.To == "n4"))
	})
	net.deliverAll()
	if ls := net.leaders(); len(ls) != 0 {
		t.Fatalf("split vote elected %v", ls)
	}
	splitTerm := net.node("n1").term
	for i := 0; i < 100 && len(net.leaders()) == 0; i++ {
		net.tickAll()
		net.deliverAll()
	}
	ls := net.leaders()
	if len(ls) != 1 {
		t.Fatalf("no single leader after retrying: %v", ls)
	}
	if term := net.node(ls[0]).term; term <= splitTerm {
		t.Fatalf("leader elected in term %d, want a term after the split vote %d", term, splitTerm)
	}
}

// Election timeouts are drawn from [ElectionTick, 2*ElectionTick) by the seeded
// source: the same seed gives the same timeouts, they vary, and stay in range.
func TestElectionTimeoutsSeededAndRandomized(t *testing.T) {
	draw := func(seed int64) []int {
		n, err := NewRawNode(Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, Seed: seed, Bootstrap: Membership{Voters: []string{"n1", "n2", "n3"}}})
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for i := 0; i < 50; i++ {
			n.resetElectionTimer()
			out = append(out, n.randomizedTimeout)
		}
		return out
	}
	a, b, c := draw(7), draw(7), draw(8)
	distinct := map[int]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed drew different timeouts: %v vs %v", a, b)
		}
		if a[i] < 10 || a[i] >= 20 {
			t.Fatalf("timeout %d outside [10, 20)", a[i])
		}
		distinct[a[i]] = true
	}
	if len(distinct) < 5 {
		t.Fatalf("timeouts barely vary: %v", a)
	}
	if equalInts(a, c) {
		t.Fatal("different seeds drew the same timeouts")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The vote restriction (§5.4.1): a voter denies its vote to a candidate whose
// log is less up-to-date: compare last terms, then last indexes.
func TestVoteRestriction(t *testing.T) {
	cases := []struct {
		name           string
		voterLog       []uint64 // terms of the voter's entries
		candLastIndex  uint64
		candLastTerm   uint64
		granted        bool
		grantedWithBug bool
	}{
		{"higher last term wins despite shorter log", []uint64{1, 1, 2}, 2, 3, true, true},
		{"lower last term loses despite longer log", []uint64{1, 1, 3}, 5, 2, false, true},
		{"same last term, longer log wins", []uint64{1, 2}, 3, 2, true, true},
		{"same last term, same length wins", []uint64{1, 2}, 2, 2, true, true},
		{"same last term, shorter log loses", []uint64{1, 2, 2}, 2, 2, false, true},
	}
	for _, tc := range cases {
		for _, bug := range []bool{false, true} {
			opts := bugIf(bug, bugs.VoteIgnoresLog)
			net := newNetwork(t, three, opts...)
			net.load("n2", 3, 0, tc.voterLog...)
			if err := net.node("n2").Step(Message{Type: MsgVote, From: "n1", To: "n2", Term: 4, Index: tc.candLastIndex, LogTerm: tc.candLastTerm}); err != nil {
				t.Fatal(err)
			}
			rd := net.node("n2").Ready()
			var resp *Message
			for i := range rd.Messages {
				if rd.Messages[i].Type == MsgVoteResp {
					resp = &rd.Messages[i]
				}
			}
			if resp == nil {
				t.Fatalf("%s: no vote response", tc.name)
			}
			want := tc.granted
			if bug {
				want = tc.grantedWithBug
			}
			if resp.Reject == want {
				t.Errorf("%s (bug %v): granted=%v, want %v", tc.name, bug, !resp.Reject, want)
			}
			// The term (and a granted vote) go out in the same Ready, to be
			// persisted before the response is sent.
			if rd.HardState.Term != 4 || !rd.MustSync {
				t.Errorf("%s: vote response without durable term: hard state %+v must sync %v", tc.name, rd.HardState, rd.MustSync)
			}
			if !resp.Reject && rd.HardState.Vote != "n1" {
				t.Errorf("%s: granted vote not in HardState %+v", tc.name, rd.HardState)
			}
		}
	}
}

// vote-ignores-log, end to end: a server that missed a committed entry wins
// the election and the entry is lost; with the restriction it cannot win.
func TestPlantedBugVoteIgnoresLog(t *testing.T) {
	for _, bug := range []bool{false, true} {
		opts := bugIf(bug, bugs.VoteIgnoresLog)
		net := newNetwork(t, three, opts...)
		net.lenient = bug
		net.elect("n1")
		net.isolate("n3")
		net.propose("n1", "acked-write")
		net.deliverAll()
		if net.node("n1").log.committed < 2 {
			t.Fatal("write not committed")
		}
		// n3 never saw the write; the leader crashes; n3 campaigns.
		net.crash("n1")
		net.heal()
		net.forgetLeader("n2", "n3")
		net.campaign("n3")
		net.deliverAll()
		won := net.node("n3").role == Leader
		if won != bug {
			t.Fatalf("bug=%v: n3 (missing a committed entry) won=%v", bug, won)
		}
		if bug {
			net.propose("n3", "overwrites")
			net.deliverAll()
			if len(net.safety.violations) == 0 {
				t.Fatalf("expected leader completeness / lost commit violation:\n%s", net.describe())
			}
		}
	}
}

// Leader completeness in action: the vote restriction makes only servers
// holding every committed entry electable.
func TestLeaderCompletenessOnlyUpToDateServersWin(t *testing.T) {
	net := newNetwork(t, five)
	net.elect("n1")
	net.partition([]string{"n1", "n2", "n3"}, []string{"n4", "n5"})
	net.propose("n1", "a")
	net.propose("n1", "b")
	net.deliverAll()
	net.crash("n1")
	net.heal()
	net.forgetLeader("n2", "n3", "n4", "n5")
	// n4 and n5 lack the committed entries: they cannot gather 3 votes.
	for _, id := range []string{"n4", "n5"} {
		net.campaign(id)
		net.deliverAll()
		if net.node(id).role == Leader {
			t.Fatalf("%s won without the committed entries:\n%s", id, net.describe())
		}
		net.forgetLeader("n2", "n3", "n4", "n5")
	}
	net.campaign("n2")
	net.deliverAll()
	if net.node("n2").role != Leader {
		t.Fatalf("n2 (up to date) should win:\n%s", net.describe())
	}
}

// Each new leader appends a no-op entry of its term at once, and it commits
// the earlier entries (§8).
func TestNewLeaderAppendsNoOp(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.propose("n1", "x")
	net.deliverAll()
	net.crash("n1")
	net.forgetLeader("n2", "n3")
	net.campaign("n2")
	net.deliverWhere(func(m Message) bool { return m.Type == MsgVote || m.Type == MsgVoteResp })
	n2 := net.node("n2")
	if n2.role != Leader {
		t.Fatal("n2 not elected")
	}
	last := n2.log.entry(n2.log.lastIndex())
	if last.Type != EntryNoOp || last.Term != n2.term {
		t.Fatalf("new leader's last entry %+v, want a no-op of term %d", last, n2.term)
	}
	net.deliverAll()
	if n2.log.committed != last.Index {
		t.Fatalf("no-op not committed: commit %d, no-op at %d", n2.log.committed, last.Index)
	}
}

// Check-quorum: a leader that hears from no majority within an election
// timeout steps down; one in the majority stays.
func TestCheckQuorumLeaderStepsDown(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	for i := 0; i < 30; i++ {
		net.tick("n1")
		net.deliverAll()
	}
	if net.node("n1").role != Leader {
		t.Fatal("connected leader stepped down")
	}
	net.isolate("n1")
	for i := 0; i < 2*10+1; i++ {
		net.tick("n1")
		net.deliverAll()
	}
	if net.node("n1").role == Leader {
		t.Fatal("isolated leader kept leading past two election timeouts")
	}
}

// A server that heard from the leader within the minimum election timeout
// ignores vote requests: no term change, no vote.
func TestVoteIgnoredWhileLeaderIsRecent(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.tickAll()
	net.deliverAll()
	n2 := net.node("n2")
	term := n2.term
	if err := n2.Step(Message{Type: MsgVote, From: "n3", To: "n2", Term: term + 1, Index: 100, LogTerm: term}); err != nil {
		t.Fatal(err)
	}
	if n2.term != term || n2.vote == "n3" || len(n2.msgs) != 0 {
		t.Fatalf("vote request during lease changed state: term %d vote %q msgs %v", n2.term, n2.vote, n2.msgs)
	}
	net.forgetLeader("n2")
	if err := n2.Step(Message{Type: MsgVote, From: "n3", To: "n2", Term: term + 1, Index: 100, LogTerm: term}); err != nil {
		t.Fatal(err)
	}
	if n2.term != term+1 || n2.vote != "n3" {
		t.Fatalf("after the lease the vote should be granted: term %d vote %q", n2.term, n2.vote)
	}
}

// Learners and servers outside the configuration never start elections.
func TestPassiveServersNeverCampaign(t *testing.T) {
	joiner, err := NewRawNode(Config{ID: "n9", ElectionTick: 5, HeartbeatTick: 1})
	if err != nil {
		t.Fatal(err)
	}
	learner, err := NewRawNode(Config{ID: "n4", ElectionTick: 5, HeartbeatTick: 1,
		Bootstrap: Membership{Voters: three, Learners: []string{"n4"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		joiner.Tick()
		learner.Tick()
	}
	if joiner.role != Follower || joiner.term != 0 || learner.role != Follower || learner.term != 0 {
		t.Fatalf("passive servers campaigned: joiner %v/%d learner %v/%d", joiner.role, joiner.term, learner.role, learner.term)
	}
	if learner.Status().Role != Learner {
		t.Fatalf("learner reports role %v", learner.Status().Role)
	}
}
