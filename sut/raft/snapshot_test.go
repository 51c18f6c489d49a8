package raft

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// A follower that fell behind the leader's compaction gets the snapshot in
// chunks (MsgSnap with offsets, Done on the last), installs it, and then
// receives the log tail.
func TestSnapshotChunkedInstallToLaggingFollower(t *testing.T) {
	net := newNetwork(t, three, func(c *Config) { c.SnapshotChunkSize = 32 })
	net.elect("n1")
	net.isolate("n3")
	for i := 0; i < 20; i++ {
		net.propose("n1", fmt.Sprintf("value-%02d", i))
	}
	net.deliverAll()
	if err := net.compact("n1"); err != nil {
		t.Fatal(err)
	}
	net.propose("n1", "after-snapshot")
	net.deliverAll()
	net.heal()
	chunks, done := 0, 0
	for i := 0; i < 10; i++ {
		net.tick("n1")
		for len(net.queue) > 0 {
			if m := net.queue[0]; m.Type == MsgSnap {
				chunks++
				if m.Done {
					done++
				}
				if uint64(len(m.Data)) > 32 {
					t.Fatalf("chunk of %d bytes, limit 32", len(m.Data))
				}
			}
			net.deliver(0)
		}
	}
	if chunks < 3 || done != 1 {
		t.Fatalf("%d chunks, %d final: want a multi-chunk transfer", chunks, done)
	}
	want := net.nodes["n1"].appliedData()
	if got := net.nodes["n3"].appliedData(); !slices.Equal(got, want) {
		t.Fatalf("n3 state after install %v, want %v", got, want)
	}
	if net.nodes["n3"].snap == nil || net.node("n3").log.snapIndex == 0 {
		t.Fatal("n3 did not persist the snapshot")
	}
}

// A lost chunk (or ack) stalls the transfer until the leader resends; the
// follower assembles from the offset it holds.
func TestSnapshotTransferSurvivesLostChunks(t *testing.T) {
	net := newNetwork(t, three, func(c *Config) { c.SnapshotChunkSize = 16 })
	net.elect("n1")
	net.isolate("n3")
	for i := 0; i < 10; i++ {
		net.propose("n1", fmt.Sprintf("v%d", i))
	}
	net.deliverAll()
	if err := net.compact("n1"); err != nil {
		t.Fatal(err)
	}
	net.heal()
	lost := 0
	for i := 0; i < 200 && len(net.nodes["n3"].appliedData()) < 10; i++ {
		net.tick("n1")
		net.tick("n3")
		for len(net.queue) > 0 {
			if m := net.queue[0]; m.Type == MsgSnap && m.Offset > 0 && lost < 3 {
				lost++
				net.queue = net.queue[1:]
				continue
			}
			net.deliver(0)
		}
	}
	if lost != 3 {
		t.Fatalf("dropped %d chunks, want 3", lost)
	}
	if got := net.nodes["n3"].appliedData(); len(got) != 10 {
		t.Fatalf("n3 applied %v after lost chunks", got)
	}
}

// A restarted server rebuilds from its snapshot plus the log tail and keeps
// participating.
func TestRestartFromSnapshotAndTail(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	for i := 0; i < 6; i++ {
		net.propose("n1", fmt.Sprint("a", i))
	}
	net.deliverAll()
	net.settle(1)
	for _, id := range three {
		if err := net.compact(id); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		net.propose("n1", fmt.Sprint("b", i))
	}
	net.deliverAll()
	net.settle(1)
	for _, id := range three {
		net.crash(id)
		net.restart(id)
		if net.node(id).log.snapIndex == 0 || len(net.nodes[id].ents) == 0 {
			t.Fatalf("%s should restart from a snapshot and a tail", id)
		}
	}
	net.settle(40)
	ls := net.leaders()
	if len(ls) != 1 {
		t.Fatalf("leaders %v", ls)
	}
	net.propose(ls[0], "c")
	net.settle(2)
	want := net.nodes[ls[0]].appliedData()
	if len(want) != 11 {
		t.Fatalf("leader applied %v", want)
	}
	for _, id := range three {
		if got := net.nodes[id].appliedData(); !slices.Equal(got, want) {
			t.Fatalf("%s applied %v, want %v", id, got, want)
		}
	}
}

// The snapshot carries the configuration in force at its index, and a node
// restarted from it uses that configuration.
func TestSnapshotCarriesMembership(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	if err := net.proposeChange("n1", MembershipChange{Remove: "n3"}); err != nil {
		t.Fatal(err)
	}
	net.settle(3)
	if err := net.compact("n1"); err != nil {
		t.Fatal(err)
	}
	snap := net.node("n1").LatestSnapshot()
	if !slices.Equal(snap.Meta.Membership.Voters, []string{"n1", "n2"}) || snap.Meta.Membership.Joint() {
		t.Fatalf("snapshot membership %+v", snap.Meta.Membership)
	}
	net.crash("n1")
	net.restart("n1")
	if m := net.node("n1").Membership(); !slices.Equal(m.Voters, []string{"n1", "n2"}) {
		t.Fatalf("restarted with membership %+v", m)
	}
}

func TestCompactRejectsBadIndexes(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.propose("n1", "x")
	net.deliverAll()
	n1 := net.node("n1")
	if err := n1.Compact(n1.log.applied+1, nil); err == nil {
		t.Fatal("compacted beyond applied")
	}
	if err := n1.Compact(n1.log.applied, []byte("img")); err != nil {
		t.Fatal(err)
	}
	if err := n1.Compact(n1.log.applied, nil); !errors.Is(err, ErrCompacted) {
		t.Fatalf("second compact at the same index: %v", err)
	}
}
