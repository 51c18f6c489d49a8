package raft

import (
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

func withReadMode(mode ReadMode, drift float64) netOpt {
	return func(c *Config) { c.ReadMode = mode; c.MaxClockDrift = drift }
}

// ReadIndex: the read is released after a heartbeat round acknowledged by a
// majority, at the commit index recorded when it arrived.
func TestReadIndexConfirmsLeadershipWithARound(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	net.propose("n1", "x")
	net.deliverAll()
	ctx := net.read("n1")
	if _, ok := net.readsOK[ctx]; ok {
		t.Fatal("read released before any heartbeat was acknowledged")
	}
	var heartbeats int
	for _, m := range net.queue {
		if m.Type == MsgHeartbeat && m.Context != 0 {
			heartbeats++
		}
	}
	if heartbeats != 2 {
		t.Fatalf("want one heartbeat round to both followers, saw %d heartbeats", heartbeats)
	}
	net.deliverAll()
	rs, ok := net.readsOK[ctx]
	if !ok || rs.Index != net.node("n1").log.committed {
		t.Fatalf("read state %+v ok=%v, want index %d", rs, ok, net.node("n1").log.committed)
	}
}

// Concurrent reads share heartbeat rounds: reads arriving while a round is in
// flight are batched into the next one.
func TestReadIndexBatchesConcurrentReads(t *testing.T) {
	net := newNetwork(t, five)
	net.elect("n1")
	first := net.read("n1")
	var batch []uint64
	for i := 0; i < 10; i++ {
		batch = append(batch, net.read("n1"))
	}
	rounds := map[uint64]bool{}
	for _, m := range net.queue {
		if m.Type == MsgHeartbeat {
			rounds[m.Context] = true
		}
	}
	if len(rounds) != 1 {
		t.Fatalf("11 reads started %d rounds at once, want 1 in flight", len(rounds))
	}
	net.deliverAll()
	for _, ctx := range append(batch, first) {
		if _, ok := net.readsOK[ctx]; !ok {
			t.Fatalf("read %d not released", ctx)
		}
	}
	if r := net.node("n1").reads.lastRound; r != 2 {
		t.Fatalf("%d rounds used for 11 reads, want 2 (one in flight, one batch)", r)
	}
}

// A partitioned old leader cannot complete a ReadIndex read, while the
// majority side elects a new leader and commits a write; the stuck read is
// dropped when the old leader steps down.
func TestReadIndexPartitionedOldLeaderCannotServe(t *testing.T) {
	net := newNetwork(t, five)
	net.elect("n1")
	net.partition([]string{"n1", "n2"}, []string{"n3", "n4", "n5"})
	ctx := net.read("n1")
	net.forgetLeader("n3", "n4", "n5")
	net.elect("n3")
	net.propose("n3", "newer")
	net.deliverAll()
	for i := 0; i < 25; i++ {
		net.tick("n1")
		net.deliverAll()
	}
	if _, ok := net.readsOK[ctx]; ok {
		t.Fatal("partitioned old leader served a read")
	}
	if !net.dropped[ctx] {
		t.Fatal("stuck read not dropped when the old leader stepped down")
	}
}

// A new leader serves no read before its no-op (an entry of its term)
// commits; with read-before-noop it serves a stale one.
func TestReadIndexWaitsForNoOpCommit(t *testing.T) {
	for _, bug := range []bool{false, true} {
		opts := bugIf(bug, bugs.ReadBeforeNoop)
		net := newNetwork(t, three, opts...)
		net.lenient = bug
		net.elect("n1")
		// A write commits on n1 and n2, but n2 learns the commit index only
		// later: its commit index lags behind.
		net.propose("n1", "acked")
		net.deliverWhere(func(m Message) bool { return m.Type == MsgApp })
		net.deliverWhere(func(m Message) bool { return m.Type == MsgAppResp })
		if net.node("n1").log.committed != 2 || net.node("n2").log.committed != 1 {
			t.Fatalf("want the write committed on n1 only: commits %d, %d", net.node("n1").log.committed, net.node("n2").log.committed)
		}
		net.crash("n1")
		net.dropWhere(func(m Message) bool { return true })
		net.forgetLeader("n2", "n3")
		net.campaign("n2")
		net.deliverWhere(func(m Message) bool { return m.Type == MsgVote || m.Type == MsgVoteResp })
		if net.node("n2").role != Leader {
			t.Fatal("n2 not elected")
		}
		ctx := net.read("n2")
		// Heartbeats only: the no-op append stays undelivered.
		net.deliverWhere(func(m Message) bool { return m.Type == MsgHeartbeat || m.Type == MsgHeartbeatResp })
		_, served := net.readsOK[ctx]
		if served != bug {
			t.Fatalf("bug=%v: read served before the no-op committed = %v", bug, served)
		}
		if bug {
			if len(net.safety.violations) == 0 {
				t.Fatal("stale read not detected")
			}
			continue
		}
		net.deliverAll()
		if rs, ok := net.readsOK[ctx]; !ok || rs.Index < 3 {
			t.Fatalf("after the no-op the read should be served at >= 3: %+v %v", rs, ok)
		}
	}
}

// Reads on a follower fail at once (definite failure, the server redirects).
func TestReadOnFollowerIsDropped(t *testing.T) {
	net := newNetwork(t, three)
	net.elect("n1")
	ctx := net.read("n2")
	if !net.dropped[ctx] {
		t.Fatal("follower read not dropped")
	}
}

// Lease: while the lease holds the leader answers at once; the lease lasts
// floor(ElectionTick*(1-drift)) ticks from the send tick of the acknowledged
// round; once it ran out (no acks) reads fall back to a round.
func TestLeaseReadServedOnlyWhileLeaseHolds(t *testing.T) {
	net := newNetwork(t, three, withReadMode(ReadLease, 0.3))
	net.elect("n1")
	net.heartbeat("n1") // heartbeat round acknowledged: lease from its send tick
	n1 := net.node("n1")
	if !n1.Status().LeaseValid {
		t.Fatal("lease should hold after an acknowledged round")
	}
	ctx := net.read("n1")
	if _, ok := net.readsOK[ctx]; !ok {
		t.Fatal("lease read not served at once")
	}
	if len(net.queue) != 0 {
		t.Fatal("lease read needed messages")
	}
	// Cut the leader off: acks stop, the lease runs out after 7 ticks.
	sent := n1.reads.leaseEnd - 7
	net.isolate("n1")
	for n1.ticks < sent+7 {
		if !n1.leaseValid() {
			t.Fatalf("lease expired early at tick %d (round sent at %d)", n1.ticks, sent)
		}
		net.tick("n1")
	}
	if n1.leaseValid() {
		t.Fatal("lease still valid after floor(10*0.7)=7 ticks")
	}
	ctx = net.read("n1")
	if _, ok := net.readsOK[ctx]; ok {
		t.Fatal("lease read served after the lease expired")
	}
}

// lease-ignores-drift: the old leader's clock runs at half speed. Followers
// wait ElectionTick of their ticks before voting; a lease of
// ElectionTick*(1-0.5) leader ticks has run out by then, a lease of
// ElectionTick (the bug) has not, and it serves a read that misses a write
// the new leader committed.
func TestPlantedBugLeaseIgnoresDrift(t *testing.T) {
	for _, bug := range []bool{false, true} {
		opts := []netOpt{withReadMode(ReadLease, 0.5)}
		if bug {
			opts = append(opts, withBugs(bugs.LeaseIgnoresDrift))
		}
		net := newNetwork(t, three, opts...)
		net.lenient = bug
		net.elect("n1")
		net.heartbeat("n1")
		if !net.node("n1").leaseValid() {
			t.Fatal("no lease")
		}
		net.isolate("n1")
		staleServed := false
		for step := 0; step < 60; step++ {
			// Followers' clocks run twice as fast as n1's.
			net.tick("n2")
			net.tick("n3")
			if step%2 == 0 {
				net.tick("n1")
			}
			net.deliverAll()
			for _, id := range []string{"n2", "n3"} {
				if net.node(id).role == Leader && net.node(id).committedInTerm() {
					if len(net.nodes[id].appliedData()) == 0 {
						net.propose(id, "new-write")
						net.deliverAll()
					}
				}
			}
			ctx := net.read("n1")
			if _, ok := net.readsOK[ctx]; ok && net.highCommit > net.node("n1").log.committed {
				staleServed = true
			}
		}
		if staleServed != bug {
			t.Fatalf("bug=%v: stale lease read served = %v\n%s", bug, staleServed, net.describe())
		}
		if bug && len(net.safety.violations) == 0 {
			t.Fatal("stale read not flagged by the checker")
		}
	}
}

// The lease also requires a commit in the current term.
func TestLeaseRequiresCommitInTerm(t *testing.T) {
	net := newNetwork(t, three, withReadMode(ReadLease, 0.1))
	net.elect("n1")
	net.crash("n1")
	net.forgetLeader("n2", "n3")
	net.campaign("n2")
	net.deliverWhere(func(m Message) bool { return m.Type == MsgVote || m.Type == MsgVoteResp })
	net.node("n2").startReadRound()
	net.deliverWhere(func(m Message) bool { return m.Type == MsgHeartbeat || m.Type == MsgHeartbeatResp })
	if net.node("n2").leaseValid() {
		t.Fatal("lease valid before the no-op committed")
	}
	net.deliverAll()
	net.tickAll()
	net.deliverAll()
	if !net.node("n2").leaseValid() {
		t.Fatal("lease should hold after the no-op and an acked round")
	}
}
