package raft

import (
	"fmt"
	"testing"
)

// A follower whose disk lost the tail of its log after acknowledging it (a
// damaged WAL it truncated on restart) must fetch the entries again from the
// leader. Before, the leader refused to probe below what the follower had
// acknowledged, and the follower stayed behind forever.
func TestFollowerThatLostItsLogTailCatchesUp(t *testing.T) {
	net := newNetwork(t, []string{"n1", "n2", "n3"})
	net.elect("n1")
	for i := range 10 {
		net.propose("n1", fmt.Sprintf("v%d", i))
		net.deliverAll()
	}
	lead := net.node("n1")
	want := lead.log.lastIndex()
	if got := net.node("n3").log.lastIndex(); got != want {
		t.Fatalf("n3 has %d entries before the loss, want %d", got, want)
	}
	// n3 restarts with only its first 4 entries and an older hard state,
	// as after a truncated WAL.
	tn := net.nodes["n3"]
	net.crash("n3")
	tn.ents = tn.ents[:4]
	tn.hs.Commit = 4
	net.restart("n3")
	// No new write: heartbeats alone must reveal the loss.
	for range 10 {
		net.tickAll()
		net.deliverAll()
	}
	if got, want := net.node("n3").log.lastIndex(), lead.log.lastIndex(); got != want {
		t.Fatalf("idle cluster: n3 stuck at index %d, leader at %d", got, want)
	}
	for i := range 3 {
		net.propose("n1", fmt.Sprintf("w%d", i))
		net.deliverAll()
		for range 3 {
			net.tickAll()
			net.deliverAll()
		}
	}
	if got, want := net.node("n3").log.lastIndex(), lead.log.lastIndex(); got != want {
		t.Fatalf("n3 stuck at index %d, leader at %d", got, want)
	}
	if pr := lead.prs["n3"]; pr == nil || pr.match != lead.log.lastIndex() {
		t.Fatalf("leader's progress of n3: %+v, want match %d", pr, lead.log.lastIndex())
	}
}
