package raft

import (
	"errors"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

// A replacement (Add and Remove together) is one change: learner, then one
// C(old,new) that brings the new server in and takes the old one out, then
// C(new).
func TestMembershipReplaceInOneJointChange(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.propose("n1", "before")
	net.deliverAll()
	net.addNode("n4", Membership{})
	if err := net.proposeChange("n1", MembershipChange{Add: "n4", Addr: "n4:1", Remove: "n3"}); err != nil {
		t.Fatal(err)
	}
	if err := net.node("n1").ProposeMembership(MembershipChange{Remove: "n2"}); !errors.Is(err, ErrChangeInProgress) {
		t.Fatalf("second change during the replacement: %v, want ErrChangeInProgress", err)
	}
	net.settle(5)
	got := describeConfigs(net.configs("n1"))
	want := "{voters=n1,n2,n3 learners=n4} -> {voters=n1,n2,n4 outgoing=n1,n2,n3} -> {voters=n1,n2,n4}"
	if got != want {
		t.Fatalf("config history\n got %s\nwant %s", got, want)
	}
	if st := net.node("n1").Status(); st.ConfigIndex > st.Commit {
		t.Fatalf("C(new) not committed:\n%s", net.describe())
	}
	if _, ok := net.node("n1").membership.Addrs["n3"]; ok {
		t.Fatal("the removed server's address is still in C(new)")
	}
}

func TestMembershipReplaceValidation(t *testing.T) {
	m := Membership{Voters: []string{"n1", "n2", "n3"}, Learners: []string{"n5"}}
	for _, tc := range []struct {
		c    MembershipChange
		want string
	}{
		{MembershipChange{Add: "n4", Remove: "n3"}, "needs an Addr"},
		{MembershipChange{Add: "n3", Addr: "a:1", Remove: "n3"}, "cannot add and remove"},
		{MembershipChange{Add: "n2", Addr: "a:1", Remove: "n3"}, "already a voter"},
		{MembershipChange{Add: "n4", Addr: "a:1", Remove: "n5"}, "must be a voter"},
		{MembershipChange{Add: "n4", Addr: "a:1", Remove: "n9"}, "must be a voter"},
	} {
		err := m.validateChange(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tc.c, err, tc.want)
		}
	}
	if err := m.validateChange(MembershipChange{Add: "n5", Addr: "a:1", Remove: "n1"}); err != nil {
		t.Errorf("replacing n1 by learner n5: %v", err)
	}
}

// runReplaceUnderPartition is the nemesis' swap-partition on n1..n3 plus a
// joining n4: n1 replaces n3 by n4; the learner entry commits everywhere but
// n4 hears nothing until n1 and n4 are cut off from n2 and n3. Then n4 catches
// up and n1 moves to n1,n2,n4, whose majority {n1, n4} is disjoint from
// {n2, n3}, a majority of C(old). n2 wins term 2 on the other side and both
// leaders try to commit a write.
func runReplaceUnderPartition(t *testing.T, bug bool) (*network, uint64) {
	opts := bugIf(bug, bugs.SingleStepMembership)
	net := newNetwork(t, three, opts...)
	net.lenient = bug
	net.elect("n1")
	net.propose("n1", "w1")
	net.deliverAll()
	net.addNode("n4", Membership{}, opts...)

	net.partition(three, []string{"n4"})
	if err := net.proposeChange("n1", MembershipChange{Add: "n4", Addr: "n4:1", Remove: "n3"}); err != nil {
		t.Fatal(err)
	}
	net.deliverAll()
	if st := net.node("n1").Status(); st.ConfigIndex > st.Commit || !st.Membership.IsLearner("n4") {
		t.Fatalf("scenario off track: learner entry not committed:\n%s", net.describe())
	}

	net.partition([]string{"n1", "n4"}, []string{"n2", "n3"})
	net.heartbeat("n1")
	net.settle(1)
	configIndex := net.node("n1").Status().ConfigIndex
	net.propose("n1", "left")
	net.heartbeat("n1")

	net.forgetLeader("n2", "n3")
	net.campaign("n2")
	net.deliverAll()
	if net.node("n2").role != Leader {
		t.Fatalf("scenario off track: n2 not elected by C(old):\n%s", net.describe())
	}
	net.propose("n2", "right")
	net.heartbeat("n2")
	return net, configIndex
}

// With joint consensus, C(old,new) needs a majority of C(old) as well, which
// n1 does not have: neither the change nor the write after it commits, and
// healing loses nothing.
func TestJointConsensusReplaceUnderPartition(t *testing.T) {
	net, configIndex := runReplaceUnderPartition(t, false)
	n1 := net.node("n1")
	if !n1.membership.Joint() {
		t.Fatalf("n1 should be in C(old,new):\n%s", net.describe())
	}
	if n1.log.committed >= configIndex {
		t.Fatalf("n1 committed C(old,new) (index %d) without a majority of C(old):\n%s", configIndex, net.describe())
	}
	net.heal()
	net.settle(10)
	if len(net.safety.violations) > 0 {
		t.Fatalf("violations: %v", net.safety.violations)
	}
}

// Single-step, n1 commits C(new) and its write on {n1, n4} while n2 commits
// its own with {n2, n3}: two leaders commit different entries at one index.
func TestPlantedBugSingleStepReplace(t *testing.T) {
	net, configIndex := runReplaceUnderPartition(t, true)
	n1, n2 := net.node("n1"), net.node("n2")
	if n1.membership.Joint() || n1.log.committed < configIndex+1 {
		t.Fatalf("scenario off track: n1 did not commit C(new) and its write on {n1, n4}:\n%s", net.describe())
	}
	if n2.log.committed < configIndex {
		t.Fatalf("scenario off track: n2 did not commit on {n2, n3}:\n%s", net.describe())
	}
	net.heal()
	net.settle(10)
	if len(net.safety.violations) == 0 {
		t.Fatalf("expected conflicting commits with %s:\n%s", bugs.SingleStepMembership, net.describe())
	}
	t.Logf("violations (expected): %v", net.safety.violations)
}
