package raft

import (
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

// runConcurrentChanges plays the single-server-change hazard (Ongaro, 2015)
// on S1..S4 plus a joining S5:
//
//  1. S1 (term 1) adds S5: its configuration entry reaches only S5.
//  2. S2 wins term 2 with S3 and S4 and removes S1; with S3 alone it
//     commits that change and a write "x".
//  3. S1, S4 and S5 meet: S1 campaigns under its own configuration.
//
// Single-step, S1's C(new) = {S1..S5} needs only S1, S4, S5, which are
// disjoint from S2's C(new) = {S2, S3, S4}'s majority {S2, S3}: S1 wins and
// overwrites the committed write. With joint consensus neither change can
// commit on a minority of C(old) and S1 cannot win.
func runConcurrentChanges(t *testing.T, bug bool) *network {
	opts := bugIf(bug, bugs.SingleStepMembership)
	ids := []string{"s1", "s2", "s3", "s4"}
	net := newNetwork(t, ids, opts...)
	net.lenient = bug
	net.elect("s1")
	net.propose("s1", "w1")
	net.deliverAll()
	net.addNode("s5", Membership{}, opts...)

	// 1. S1 adds S5; the promotion entry reaches S5 only.
	if err := net.proposeChange("s1", MembershipChange{Add: "s5", Addr: "s5:1"}); err != nil {
		t.Fatal(err)
	}
	net.deliverUntil(func() bool { return net.node("s1").membership.IsVoter("s5") })
	net.partition([]string{"s1", "s5"}, []string{"s2", "s3", "s4"})
	net.deliverAll()

	// 2. S2 wins term 2 and removes S1 at once; only S3 hears it.
	net.forgetLeader("s2", "s3", "s4")
	net.campaign("s2")
	net.deliverWhere(func(m Message) bool { return m.Type == MsgVote || m.Type == MsgVoteResp })
	if net.node("s2").role != Leader {
		t.Fatalf("s2 not elected:\n%s", net.describe())
	}
	if err := net.proposeChange("s2", MembershipChange{Remove: "s1"}); err != nil {
		t.Fatal(err)
	}
	net.partition([]string{"s2", "s3"}, []string{"s4"}, []string{"s1", "s5"})
	net.propose("s2", "x")
	net.deliverAll()
	net.heartbeat("s2")

	// 3. S1 loses its leadership (check-quorum), then meets S4 and S5.
	net.tickUntil("s1", 50, func() bool { return net.node("s1").role != Leader })
	net.partition([]string{"s1", "s4", "s5"}, []string{"s2", "s3"})
	for i := 0; i < 4 && net.node("s1").role != Leader; i++ {
		net.forgetLeader("s4", "s5")
		net.campaign("s1")
		net.deliverAll()
	}
	net.heartbeat("s1")
	net.settle(3)
	return net
}

func TestJointConsensusSurvivesConcurrentChanges(t *testing.T) {
	net := runConcurrentChanges(t, false)
	if s2 := net.node("s2"); s2.log.committed >= s2.configIndex {
		t.Fatalf("s2 committed its change on a minority of C(old):\n%s", net.describe())
	}
	for _, term := range []uint64{3, 4, 5} {
		if net.safety.leaderOf[term] == "s1" {
			t.Fatalf("s1 won term %d with a minority of C(old):\n%s", term, net.describe())
		}
	}
}

func TestPlantedBugSingleStepMembership(t *testing.T) {
	net := runConcurrentChanges(t, true)
	if s2 := net.node("s2"); s2.log.committed < s2.configIndex {
		t.Fatalf("scenario off track: s2 did not commit its single-step change:\n%s", net.describe())
	}
	if net.node("s1").role != Leader {
		t.Fatalf("scenario off track: s1 did not win with S4 and S5:\n%s", net.describe())
	}
	if len(net.safety.violations) == 0 {
		t.Fatalf("expected a lost committed entry with %s:\n%s", bugs.SingleStepMembership, net.describe())
	}
	t.Logf("violations (expected): %v", net.safety.violations)
}
