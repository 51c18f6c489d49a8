package raft

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

// settle runs ticks and deliveries until the network is calm.
func (net *network) settle(rounds int) {
	for i := 0; i < rounds; i++ {
		net.tickAll()
		net.deliverAll()
	}
}

// configs lists the configurations in id's log, oldest first.
func (net *network) configs(id string) []Membership {
	var out []Membership
	for _, e := range net.node(id).log.entries {
		if e.Type == EntryConfig {
			m, err := DecodeMembership(e.Data)
			if err != nil {
				net.t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

func describeConfigs(ms []Membership) string {
	var parts []string
	for _, m := range ms {
		s := "voters=" + strings.Join(m.Voters, ",")
		if m.Joint() {
			s += " outgoing=" + strings.Join(m.Outgoing, ",")
		}
		if len(m.Learners) > 0 {
			s += " learners=" + strings.Join(m.Learners, ",")
		}
		parts = append(parts, "{"+s+"}")
	}
	return strings.Join(parts, " -> ")
}

func (net *network) proposeChange(leader string, c MembershipChange) error {
	err := net.node(leader).ProposeMembership(c)
	net.process(leader)
	return err
}

// Adding a server: learner first, then C(old,new) once it caught up, then
// C(new); one change at a time.
func TestMembershipAddServerViaLearnerAndJoint(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	for i := 0; i < 5; i++ {
		net.propose("n1", "before")
	}
	net.deliverAll()
	net.addNode("n4", Membership{})
	if err := net.proposeChange("n1", MembershipChange{Add: "n4", Addr: "n4:1"}); err != nil {
		t.Fatal(err)
	}
	if err := net.node("n1").ProposeMembership(MembershipChange{Remove: "n2"}); !errors.Is(err, ErrChangeInProgress) {
		t.Fatalf("second change while the learner catches up: %v, want ErrChangeInProgress", err)
	}
	net.settle(5)
	got := describeConfigs(net.configs("n1"))
	want := "{voters=n1,n2,n3 learners=n4} -> {voters=n1,n2,n3,n4 outgoing=n1,n2,n3} -> {voters=n1,n2,n3,n4}"
	if got != want {
		t.Fatalf("config history\n got %s\nwant %s", got, want)
	}
	st := net.node("n1").Status()
	if st.ConfigIndex > st.Commit {
		t.Fatal("C(new) not committed")
	}
	if net.nodes["n4"].node.Status().Role != Follower || len(net.nodes["n4"].appliedData()) != 5 {
		t.Fatalf("n4 should be a caught-up voter: %+v applied %v", net.node("n4").Status(), net.nodes["n4"].appliedData())
	}
	// The new voter counts: with n1 and n2 down, n3 and n4 cannot elect
	// (need 3 of 4), with n2 back they can.
	net.crash("n1")
	net.crash("n2")
	net.forgetLeader("n3", "n4")
	net.campaign("n3")
	net.deliverAll()
	if net.node("n3").role == Leader {
		t.Fatal("2 of 4 voters elected a leader")
	}
	net.restart("n2")
	net.settle(40)
	if len(net.leaders()) != 1 {
		t.Fatalf("3 of 4 voters should elect a leader: %v\n%s", net.leaders(), net.describe())
	}
}

// Removing a server: C(old,new) then C(new); the removed server stops being
// replicated to.
func TestMembershipRemoveServer(t *testing.T) {
	net := newNetwork(t, five)
	net.elect("n1")
	if err := net.proposeChange("n1", MembershipChange{Remove: "n5"}); err != nil {
		t.Fatal(err)
	}
	net.settle(3)
	got := describeConfigs(net.configs("n1"))
	want := "{voters=n1,n2,n3,n4 outgoing=n1,n2,n3,n4,n5} -> {voters=n1,n2,n3,n4}"
	if got != want {
		t.Fatalf("config history\n got %s\nwant %s", got, want)
	}
	if _, tracked := net.node("n1").prs["n5"]; tracked {
		t.Fatal("leader still tracks the removed server")
	}
	if _, ok := net.node("n1").Membership().Addrs["n5"]; ok {
		t.Fatal("removed server's address kept in C(new)")
	}
	// 3 of the remaining 4 suffice now.
	net.crash("n5")
	net.crash("n4")
	net.propose("n1", "x")
	net.deliverAll()
	if net.node("n1").log.committed != net.node("n1").log.lastIndex() {
		t.Fatal("write did not commit with 3 of 4 voters")
	}
}

// Replacing a server: add n4, then remove n1 (the leader).
func TestMembershipReplaceServer(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.addNode("n4", Membership{})
	if err := net.proposeChange("n1", MembershipChange{Add: "n4", Addr: "n4:1"}); err != nil {
		t.Fatal(err)
	}
	net.settle(5)
	if err := net.proposeChange("n1", MembershipChange{Remove: "n1"}); err != nil {
		t.Fatal(err)
	}
	net.settle(40)
	ls := net.leaders()
	if len(ls) != 1 || ls[0] == "n1" {
		t.Fatalf("want one leader among n2..n4, got %v\n%s", ls, net.describe())
	}
	if v := net.node(ls[0]).Membership().Voters; !slices.Equal(v, []string{"n2", "n3", "n4"}) {
		t.Fatalf("voters %v", v)
	}
}

// Removing the leader: it keeps leading through C(old,new) and C(new),
// without counting itself in C(new), then steps down once C(new) commits.
func TestMembershipRemoveLeader(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	if err := net.proposeChange("n1", MembershipChange{Remove: "n1"}); err != nil {
		t.Fatal(err)
	}
	// Only n2 answers: C(new)={n2,n3} needs both, and n1 must not count.
	net.isolate("n3")
	net.deliverAll()
	n1 := net.node("n1")
	if !n1.membership.Joint() || n1.role != Leader {
		t.Fatalf("leader should be in the joint phase still leading: joint=%v role=%v", n1.membership.Joint(), n1.role)
	}
	if n1.configIndex <= n1.log.committed {
		t.Fatalf("joint config committed with only n1 and n2: C(new)={n2,n3} needs n3 (commit %d, config %d)", n1.log.committed, n1.configIndex)
	}
	net.heal()
	net.settle(3)
	if n1.role == Leader {
		t.Fatalf("n1 should step down once C(new) without it committed:\n%s", net.describe())
	}
	if n1.Status().Role != Follower || n1.canCampaign() {
		t.Fatal("removed leader must stay passive")
	}
	net.settle(40)
	if ls := net.leaders(); len(ls) != 1 || ls[0] == "n1" {
		t.Fatalf("leaders %v", ls)
	}
}

// The leader crashes in the middle of a change: the joint entry reached a
// majority of both configs, so the next leader finishes the change by
// appending C(new) itself.
func TestMembershipLeaderCrashDuringJointPhase(t *testing.T) {
	net := newNetwork(t, five)
	net.elect("n1")
	if err := net.proposeChange("n1", MembershipChange{Remove: "n5"}); err != nil {
		t.Fatal(err)
	}
	// The joint entry reaches everyone, but n1 crashes before C(new).
	net.deliverWhere(func(m Message) bool { return m.Type == MsgApp })
	net.crash("n1")
	net.dropWhere(func(m Message) bool { return true })
	for _, id := range []string{"n2", "n3"} {
		if !net.node(id).membership.Joint() {
			t.Fatalf("%s should use the joint config from its log at once", id)
		}
	}
	net.forgetLeader("n2", "n3", "n4", "n5")
	net.settle(40)
	ls := net.leaders()
	if len(ls) != 1 {
		t.Fatalf("leaders %v\n%s", ls, net.describe())
	}
	m := net.node(ls[0]).Membership()
	if m.Joint() || !slices.Equal(m.Voters, []string{"n1", "n2", "n3", "n4"}) {
		t.Fatalf("new leader did not finish the change: %+v", m)
	}
}

// A leader crash before the joint entry spreads: the entry is truncated by
// the next leader and the servers that had it revert to the old config.
func TestMembershipUncommittedConfigRevertsOnTruncation(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.isolate("n1")
	if err := net.proposeChange("n1", MembershipChange{Remove: "n3"}); err != nil {
		t.Fatal(err)
	}
	if !net.node("n1").membership.Joint() {
		t.Fatal("n1 should use its uncommitted joint config")
	}
	net.heal()
	net.isolate("n1")
	net.forgetLeader("n2", "n3")
	net.elect("n2")
	net.propose("n2", "newer")
	net.deliverAll()
	net.heal()
	net.settle(5)
	m := net.node("n1").Membership()
	if m.Joint() || !slices.Equal(m.Voters, three) {
		t.Fatalf("n1 kept a truncated config: %+v\n%s", m, net.describe())
	}
}

// While joint, commitment needs a majority of C(old) and of C(new).
func TestJointConsensusNeedsBothMajorities(t *testing.T) {
	m := Membership{Voters: []string{"a", "b", "c", "d", "e"}, Outgoing: []string{"a", "b", "c"}}
	match := map[string]uint64{"a": 9, "b": 9, "c": 1, "d": 1, "e": 1}
	if got := jointValue(m, func(id string) uint64 { return match[id] }); got != 1 {
		t.Fatalf("C(old) majority alone committed %d", got)
	}
	match = map[string]uint64{"a": 9, "b": 1, "c": 1, "d": 9, "e": 9}
	if got := jointValue(m, func(id string) uint64 { return match[id] }); got != 1 {
		t.Fatalf("C(new) majority alone committed %d", got)
	}
	match = map[string]uint64{"a": 9, "b": 9, "c": 1, "d": 9, "e": 1}
	if got := jointValue(m, func(id string) uint64 { return match[id] }); got != 9 {
		t.Fatalf("both majorities should commit 9, got %d", got)
	}
	votes := map[string]bool{"d": true, "e": true, "c": true}
	if hasJointMajority(m, func(id string) bool { return votes[id] }) {
		t.Fatal("C(new) votes alone won a joint election")
	}
	votes["a"] = true
	if !hasJointMajority(m, func(id string) bool { return votes[id] }) {
		t.Fatal("votes from both majorities should win")
	}

	// End to end: joint C(old={n1,n2,n3}, new={n1,n2,n3,n4}) with n3 and
	// n4 cut off: n1 and n2 are a majority of C(old) only.
	net := newNetwork(t, three)
	net.elect("n1")
	net.addNode("n4", Membership{})
	if err := net.proposeChange("n1", MembershipChange{Add: "n4", Addr: "n4:1"}); err != nil {
		t.Fatal(err)
	}
	net.deliverUntil(func() bool { return net.node("n1").membership.Joint() })
	net.partition([]string{"n1", "n2"}, []string{"n3", "n4"})
	net.propose("n1", "x")
	net.deliverAll()
	n1 := net.node("n1")
	if n1.log.committed >= n1.configIndex {
		t.Fatalf("joint entry committed by C(old) majority alone:\n%s", net.describe())
	}
}

// Learner catch-up: the leader waits for match >= commit before the joint
// entry, and a learner never counts in a majority.
func TestLearnerPromotedOnlyAfterCatchingUp(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	for i := 0; i < 10; i++ {
		net.propose("n1", "w")
	}
	net.deliverAll()
	net.addNode("n4", Membership{})
	net.isolate("n4")
	if err := net.proposeChange("n1", MembershipChange{Add: "n4", Addr: "n4:1"}); err != nil {
		t.Fatal(err)
	}
	net.settle(5)
	if net.node("n1").membership.Joint() || net.node("n1").membership.IsVoter("n4") {
		t.Fatal("promoted a learner that has not caught up")
	}
	if st := net.node("n1").Status(); st.PendingPromotion != "n4" {
		t.Fatalf("pending promotion %q", st.PendingPromotion)
	}
	net.heal()
	net.settle(5)
	if !net.node("n1").membership.IsVoter("n4") {
		t.Fatalf("caught-up learner not promoted:\n%s", net.describe())
	}
}

// Validation of requested changes.
func TestProposeMembershipValidation(t *testing.T) {
	net := newNetwork(t, three)
	if err := net.node("n2").ProposeMembership(MembershipChange{Remove: "n3"}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("follower: %v", err)
	}
	net.elect("n1")
	for _, c := range []MembershipChange{
		{},
		{Add: "n4"},
		{Add: "n2", Addr: "x"},
		{Remove: "n9"},
		{Add: "n4", Addr: "a", Remove: "n9"}, // a replacement removes a voter
	} {
		if err := net.node("n1").ProposeMembership(c); err == nil || errors.Is(err, ErrNotLeader) {
			t.Errorf("change %+v accepted: %v", c, err)
		}
	}
	single := newNetwork(t, []string{"n1"})
	single.elect("n1")
	if err := single.node("n1").ProposeMembership(MembershipChange{Remove: "n1"}); err == nil {
		t.Fatal("removed the last voter")
	}
}

// A removed server that never learned of its removal times out and
// campaigns; the cluster ignores it (no term change, leader stays). With
// removed-server-disrupts the leader is deposed again and again.
func TestRemovedServerCannotDisrupt(t *testing.T) {
	for _, bug := range []bool{false, true} {
		opts := bugIf(bug, bugs.RemovedServerDisrupts)
		net := newNetwork(t, three, opts...)
		net.elect("n1")
		if err := net.proposeChange("n1", MembershipChange{Remove: "n3"}); err != nil {
			t.Fatal(err)
		}
		// n3 gets the joint entry but is cut off before C(new).
		net.deliverUntil(func() bool { return net.node("n3").membership.Joint() })
		net.isolate("n3")
		net.settle(3)
		if net.node("n1").membership.Joint() {
			t.Fatal("C(new) not reached")
		}
		term := net.node("n1").term
		// n3 only knows the joint config: it times out and campaigns.
		for i := 0; i < 40; i++ {
			net.tick("n3")
		}
		if net.node("n3").role != Candidate {
			t.Fatalf("removed n3 should be campaigning, role %v", net.node("n3").role)
		}
		net.heal()
		depositions := 0
		for i := 0; i < 60; i++ {
			net.tickAll()
			net.deliverAll()
			if net.node("n1").role != Leader {
				depositions++
			}
		}
		if !bug && (net.node("n1").term != term || depositions > 0) {
			t.Fatalf("removed server disrupted the cluster: term %d -> %d, %d ticks without n1 leading", term, net.node("n1").term, depositions)
		}
		if bug && net.node("n1").term == term {
			t.Fatalf("with %s the removed server should bump the term", bugs.RemovedServerDisrupts)
		}
	}
}
