package raft

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

// runFigure8 plays the Raft paper's Figure 8 on S1..S5 and returns the
// network. The leader of term 4 (S1) gets its term-2 entry at index 2 onto a
// majority (S1, S3, S4; S2 has it too) but crashes before any entry of term 4
// is replicated; S5 then wins term 5 and replicates its own index-2 entry of
// term 3. (The paper's S1 counts S2, which it knew from term 2; our leader
// learns matches afresh each term, so S3 and S4 stand in for S2 and S3.)
func runFigure8(t *testing.T, lenient bool, opts ...netOpt) *network {
	opts = append(opts, func(c *Config) { c.MaxEntriesPerMsg = 1 })
	net := newNetwork(t, []string{"s1", "s2", "s3", "s4", "s5"}, opts...)
	net.lenient = lenient
	// (a)/(b): S1 led term 2 and got index 2 onto S2; S5 led term 3 and
	// wrote index 2 only on itself. Index 1 (term 1) is committed everywhere.
	net.load("s1", 3, 1, 1, 2)
	net.load("s2", 3, 1, 1, 2)
	net.load("s3", 3, 1, 1)
	net.load("s4", 3, 1, 1)
	net.load("s5", 3, 1, 1, 3)
	net.crash("s5")

	// (c): S1 wins term 4 and, talking to S3 and S4 only, replicates its
	// term-2 entry there: index 2 is now on a majority.
	net.campaign("s1")
	net.deliverWhere(func(m Message) bool { return m.Type == MsgVote || m.Type == MsgVoteResp })
	if net.node("s1").role != Leader {
		t.Fatalf("s1 did not win term 4:\n%s", net.describe())
	}
	net.partition([]string{"s1", "s3", "s4"}, []string{"s2", "s5"})
	net.deliverUntil(func() bool {
		prs := net.node("s1").prs
		return prs["s3"].match >= 2 && prs["s4"].match >= 2
	})
	if got := net.logTerms("s3"); len(got) != 2 {
		t.Fatalf("s3 should hold exactly indexes 1-2 before s1 crashes, terms %v", got)
	}
	net.crash("s1")
	net.dropWhere(func(m Message) bool { return m.From == "s1" })

	// (d): S5 comes back and wins term 5 with S2, S3 and S4, whose last
	// terms (2) are older than its own (3); it overwrites index 2.
	net.restart("s5")
	net.heal()
	net.forgetLeader("s2", "s3", "s4")
	for i := 0; i < 3 && net.node("s5").role != Leader; i++ {
		net.campaign("s5")
		net.deliverAll()
	}
	if net.node("s5").role != Leader {
		t.Fatalf("s5 did not win:\n%s", net.describe())
	}
	for i := 0; i < 3; i++ {
		net.tickAll()
		net.deliverAll()
	}
	return net
}

// Figure 8, correct Raft: S1 never counts replicas of its term-2 entry, so
// index 2 is not committed when S5 overwrites it; nothing committed is lost.
func TestFigure8OnlyCurrentTermEntriesCommitByCounting(t *testing.T) {
	net := runFigure8(t, false)
	if got := net.logTerms("s3"); got[1] != 3 {
		t.Fatalf("s3 index 2 should now hold S5's term-3 entry, log terms %v", got)
	}
	if c := net.nodes["s1"].applied; len(c) > 1 {
		t.Fatalf("s1 applied %v: it must not have committed index 2 by counting term-2 replicas", c)
	}
	if len(net.safety.violations) > 0 {
		t.Fatalf("violations: %v", net.safety.violations)
	}
}

// Figure 8 with the commit-previous-term bug: S1 commits index 2 by counting
// replicas of a term-2 entry, applies it, and S5 later overwrites it.
func TestFigure8PlantedBugCommitPreviousTerm(t *testing.T) {
	net := runFigure8(t, true, withBugs(bugs.CommitPreviousTerm))
	if len(net.safety.violations) == 0 {
		t.Fatalf("expected a lost committed entry with %s:\n%s", bugs.CommitPreviousTerm, net.describe())
	}
	if !strings.Contains(strings.Join(net.safety.violations, "\n"), "state machine safety") {
		t.Fatalf("expected a state machine safety violation, got %v", net.safety.violations)
	}
	if c := net.nodes["s1"].applied; len(c) < 2 || !strings.HasPrefix(c[1], "2/") {
		t.Fatalf("s1 should have applied the term-2 entry at index 2, applied %v", c)
	}
}
