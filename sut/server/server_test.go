package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/raft"
)

func TestRetriedWriteAppliesOnce(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	h := map[string]string{"X-Client-Id": "c1", "X-Seq": "1"}
	_, first := c.leaderDo("POST", "/kv/l/append", map[string]any{"value": "a"}, h)
	code, second := c.leaderDo("POST", "/kv/l/append", map[string]any{"value": "a"}, h)
	if code != 200 || fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("retry answered %d %v, want the first answer %v", code, second, first)
	}
	h["X-Seq"] = "2"
	_, third := c.leaderDo("POST", "/kv/l/append", map[string]any{"value": "b"}, h)
	if fmt.Sprint(third["value"]) != "[a b]" {
		t.Fatalf("after a retry and a new write the list is %v, want [a b]", third["value"])
	}
}

func TestReadModes(t *testing.T) {
	for _, mode := range []raft.ReadMode{raft.ReadIndex, raft.ReadLease, raft.ReadLog} {
		t.Run(ReadModeName(mode), func(t *testing.T) {
			c := newTestCluster(t, 3, func(cfg *Config) { cfg.ReadMode = mode })
			s := c.waitLeader()
			want := map[raft.ReadMode]string{raft.ReadIndex: "server.readIndexReader", raft.ReadLease: "server.leaseReader", raft.ReadLog: "server.logReader"}[mode]
			if got := fmt.Sprintf("%T", s.reader); got != want {
				t.Fatalf("read path %s, want %s", got, want)
			}
			for i := 0; i < 20; i++ {
				if code, out := c.leaderDo("PUT", "/kv/k", map[string]any{"value": i}); code != 200 {
					t.Fatalf("write %d: %d %v", i, code, out)
				}
				code, out := c.leaderDo("GET", "/kv/k", nil)
				if code != 200 || out["value"] != jsonNumber(fmt.Sprint(i)) {
					t.Fatalf("read after write %d: %d %v", i, code, out)
				}
			}
			if code, _ := c.leaderDo("GET", "/kv/absent", nil); code != 404 {
				t.Fatalf("read of an absent key: %d, want 404", code)
			}
		})
	}
}

// A leader cut off from its followers steps down (check-quorum) and answers
// the writes it was holding as indefinite.
func TestLeadershipLossAnswersOutcomeUnknown(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.RequestTimeout = 10 * time.Second })
	s := c.waitLeader()
	c.net.isolate(s.cfg.ID)
	code, out, _ := do(t, s, "PUT", "/kv/x", map[string]any{"value": 1}, nil)
	if code != 504 || !strings.Contains(fmt.Sprint(out["error"]), "outcome unknown") {
		t.Fatalf("write at a leader that lost its quorum: %d %v, want 504 outcome unknown", code, out)
	}
	if !strings.Contains(fmt.Sprint(out["error"]), "leadership lost") {
		t.Fatalf("the answer came from the request timeout, not from the step-down: %v", out)
	}
}

func TestRegistryOutcomes(t *testing.T) {
	r := newRegistry(0)
	mk := func(index, term uint64) *proposalWaiter {
		w := &proposalWaiter{index: index, term: term, ch: make(chan outcome, 1)}
		r.addProposal(w)
		return w
	}
	applied, overwritten, lost := mk(1, 2), mk(2, 2), mk(3, 2)
	r.proposalApplied(1, 2, kv.Result{Found: true})
	if o := <-applied.ch; o.status != 0 || !o.result.Found {
		t.Fatalf("applied proposal answered %+v", o)
	}
	r.entryAt(2, 3) // another leader's entry replaced ours: definite failure
	if o := <-overwritten.ch; o.status != 503 {
		t.Fatalf("overwritten proposal answered %+v, want 503", o)
	}
	r.failProposals(outcomeLeaderLost, 0)
	if o := <-lost.ch; o.status != 504 {
		t.Fatalf("proposal pending at step-down answered %+v, want 504", o)
	}

	rd := &readWaiter{ctx: 7, ch: make(chan outcome, 1)}
	r.addRead(rd)
	r.readReleased(7, 5, true)
	select {
	case o := <-rd.ch:
		t.Fatalf("read answered %+v before applied reached its index", o)
	default:
	}
	r.setApplied(4)
	select {
	case o := <-rd.ch:
		t.Fatalf("read answered %+v at applied 4 < 5", o)
	default:
	}
	r.setApplied(5)
	if o := <-rd.ch; o.status != 0 {
		t.Fatalf("read answered %+v", o)
	}
	dropped := &readWaiter{ctx: 8, ch: make(chan outcome, 1)}
	r.addRead(dropped)
	r.readDropped(8)
	if o := <-dropped.ch; o.status != 503 {
		t.Fatalf("dropped read answered %+v, want 503", o)
	}
}

func TestRestartRecoversFromSnapshotAndLog(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.SnapshotEvery = 10 })
	s := c.waitLeader()
	for i := 0; i < 35; i++ {
		mustPut(t, s, fmt.Sprintf("k%d", i%7), i)
	}
	c.waitApplied(s.status.Load().Commit)
	victim := "n1"
	if st := c.servers[victim].status.Load(); st.SnapshotIndex == 0 {
		// The snapshot is taken asynchronously; wait for it.
		for deadline := time.Now().Add(5 * time.Second); c.servers[victim].status.Load().SnapshotIndex == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no snapshot taken after 35 entries with SnapshotEvery 10")
			}
		}
	}
	c.stop(victim)
	restarted := c.start(victim)
	if got := restarted.reg.appliedIndex(); got == 0 {
		t.Fatal("restart did not restore the snapshot")
	}
	for i := 28; i < 35; i++ {
		key := fmt.Sprintf("k%d", i%7)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			v, found := restarted.localRead(key)
			if found && fmt.Sprint(v) == fmt.Sprint(i) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after restart %s = %v (found %v), want %d", key, v, found, i)
			}
		}
	}
}

// Only one membership change at a time: a second one while the first is in
// flight is refused with 409, a definite failure.
func TestSecondMembershipChangeIsRefused(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.MembershipTimeout = 300 * time.Millisecond })
	s := c.waitLeader()
	// n9 never answers, so its learner phase never completes.
	code, out, _ := do(t, s, "POST", "/admin/members", `{"add": "n9=127.0.0.1:9"}`, nil)
	if code != 504 {
		t.Fatalf("adding an unreachable server: %d %v, want 504 (still in progress)", code, out)
	}
	code, out, _ = do(t, s, "POST", "/admin/members", `{"remove": "n2"}`, nil)
	if code != 409 || !strings.Contains(fmt.Sprint(out["error"]), "in progress") {
		t.Fatalf("second change while the first is in flight: %d %v, want 409", code, out)
	}
}
