package raft

import (
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

// A removed server left running, as the nemesis leaves it until a fault
// heals, never hears of C(new): the leader stops talking to it as soon as it
// appends C(new), so it keeps the joint configuration, times out and
// campaigns over and over. With every message delivered (no partition, no
// loss), nothing of its rising term may reach the cluster: the leader keeps
// its term. With removed-server-disrupts its vote requests bump everyone's
// term and depose the leader.
func TestRemovedServerKeptRunningCannotDepose(t *testing.T) {
	ids := []string{"n1", "n2", "n3", "n4", "n5"}
	for _, bug := range []bool{false, true} {
		opts := bugIf(bug, bugs.RemovedServerDisrupts)
		net := newNetwork(t, ids, opts...)
		net.elect("n1")
		net.propose("n1", "a")
		net.deliverAll()
		if err := net.proposeChange("n1", MembershipChange{Remove: "n5"}); err != nil {
			t.Fatal(err)
		}
		term := net.node("n1").term
		deposed := 0
		for range 200 {
			net.tickAll()
			net.deliverAll()
			if net.node("n1").role != Leader || net.node("n1").term != term {
				deposed++
			}
		}
		n5 := net.node("n5")
		if !n5.membership.Joint() || n5.term <= term+1 {
			t.Fatalf("bug=%v: scenario off track: n5 should keep C(old,new) and campaign, term %d config %+v", bug, n5.term, n5.membership)
		}
		if !bug && deposed > 0 {
			t.Fatalf("removed n5 (term %d) deposed the leader for %d rounds:\n%s", n5.term, deposed, net.describe())
		}
		if bug && deposed == 0 {
			t.Fatalf("with %s, n5 at term %d should depose the leader", bugs.RemovedServerDisrupts, n5.term)
		}
	}
}
