package server

import (
	"testing"
	"time"

	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/raft"
)

// Each server-level planted bug gets the same scenario twice: with the bug
// the client sees a linearizability violation, without it the same steps are
// safe.

func withBug(bug string, on bool, more func(*Config)) func(*Config) {
	return func(cfg *Config) {
		if on {
			cfg.Bugs = bugs.Set{bug: true}
		}
		if more != nil {
			more(cfg)
		}
	}
}

// mustPutOutside writes at whichever server outside exclude leads,
// following leadership if it moves (307 and 503 are definite failures).
func mustPutOutside(t *testing.T, c *testCluster, exclude string, key string, value any) {
	t.Helper()
	for attempt := 0; attempt < 10; attempt++ {
		s := c.waitLeader(exclude)
		code, out, _ := do(t, s, "PUT", "/kv/"+key, map[string]any{"value": value}, nil)
		if code == 200 {
			return
		}
		if code != 307 && code != 503 {
			t.Fatalf("PUT %s=%v at %s: %d %v", key, value, s.cfg.ID, code, out)
		}
	}
	t.Fatalf("PUT %s=%v: no leader outside %s accepted it", key, value, exclude)
}

func mustPut(t *testing.T, s *Server, key string, value any) {
	t.Helper()
	if code, out, _ := do(t, s, "PUT", "/kv/"+key, map[string]any{"value": value}, nil); code != 200 {
		t.Fatalf("PUT %s=%v at %s: %d %v", key, value, s.cfg.ID, code, out)
	}
}

// freezeLeadership nearly stops s's clock: s keeps believing it leads (its
// check-quorum timeout never fires) while the others, no longer hearing its
// heartbeats, elect someone else. This is a deposed leader behind a
// partition that has not noticed yet.
func freezeLeadership(t *testing.T, s *Server) {
	t.Helper()
	if err := s.Clock().SetSkew(0, 0.0001); err != nil {
		t.Fatal(err)
	}
}

func shortTimeout(cfg *Config) { cfg.RequestTimeout = 400 * time.Millisecond }

func TestPlantedStaleLocalRead(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[on], func(t *testing.T) {
			c := newTestCluster(t, 3, withBug(bugs.StaleLocalRead, on, shortTimeout))
			old := c.waitLeader()
			mustPut(t, old, "x", 1)
			c.waitApplied(old.status.Load().Commit)
			c.net.isolate(old.cfg.ID)
			mustPutOutside(t, c, old.cfg.ID, "x", 2) // acknowledged before the read below starts

			// The client still talks to the node it knew as leader.
			code, out, _ := do(t, old, "GET", "/kv/x", nil, nil)
			if on {
				if code != 200 || out["value"] != jsonNumber("1") {
					t.Fatalf("bug on: GET at the deposed leader = %d %v, want the stale value 1", code, out)
				}
				return
			}
			if code == 200 {
				t.Fatalf("bug off: GET at the deposed leader answered %v; cut off from the majority it must not answer", out)
			}
		})
	}
}

func TestPlantedAckBeforeCommit(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[on], func(t *testing.T) {
			c := newTestCluster(t, 3, withBug(bugs.AckBeforeCommit, on, shortTimeout))
			old := c.waitLeader()
			mustPut(t, old, "x", 1)
			// With the bug even this write was acknowledged early: let it
			// reach everyone before the partition.
			c.waitApplied(old.status.Load().LastIndex)
			freezeLeadership(t, old)
			c.net.isolate(old.cfg.ID)
			code, out, _ := do(t, old, "PUT", "/kv/x", map[string]any{"value": 2}, nil)
			acked := code == 200

			c.waitLeader(old.cfg.ID)
			c.net.heal()
			old.Clock().SetSkew(0, 1)
			// After healing, the old leader learns the new term and its
			// uncommitted entry is overwritten: everyone agrees on x.
			code, got := c.leaderDo("GET", "/kv/x", nil)
			if code != 200 || got["value"] != jsonNumber("1") {
				t.Fatalf("GET at the new leader: %d %v, want 1 (the write made behind the partition cannot commit)", code, got)
			}
			if on && !acked {
				t.Fatalf("bug on: the write behind the partition was not acknowledged (%d %v)", code, out)
			}
			if !on && acked {
				t.Fatalf("bug off: a write that never committed was acknowledged: %v", out)
			}
		})
	}
}

func TestPlantedFollowerReadNoWait(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[on], func(t *testing.T) {
			c := newTestCluster(t, 3, withBug(bugs.FollowerReadNoWait, on, nil))
			old := c.waitLeader()
			mustPut(t, old, "x", 1)
			c.waitApplied(old.status.Load().Commit)
			// Every follower's state machine stops applying (a slow disk,
			// a long GC pause): their logs advance, their stores do not.
			for id, s := range c.servers {
				if id != old.cfg.ID {
					s.applyHold.Lock()
				}
			}
			held := true
			release := func() {
				if held {
					held = false
					for id, s := range c.servers {
						if id != old.cfg.ID {
							s.applyHold.Unlock()
						}
					}
				}
			}
			defer release()
			mustPut(t, old, "x", 2)
			written := old.status.Load().Commit

			c.net.isolate(old.cfg.ID)
			elected := func(s *Server, st *raft.Status) bool { return st.Commit > written }

			// Read at the new leader (again at the next one should a busy
			// machine make leadership move: 307 and 503 change nothing).
			answered := make(chan map[string]any, 1)
			go func() {
				for attempt := 0; ; attempt++ {
					fresh := c.waitLeaderWhere(elected, old.cfg.ID)
					code, out, _ := do(t, fresh, "GET", "/kv/x", nil, nil)
					if (code == 307 || code == 503) && attempt < 10 {
						continue
					}
					out["code"] = code
					answered <- out
					return
				}
			}()
			wait := func() map[string]any {
				select {
				case out := <-answered:
					return out
				case <-time.After(20 * time.Second):
					t.Fatal("the read got no answer within 20s")
					return nil
				}
			}
			if on {
				out := wait()
				if out["code"] != 200 || out["value"] != jsonNumber("1") {
					t.Fatalf("bug on: GET at the lagging new leader = %v, want the stale value 1", out)
				}
				return
			}
			select {
			case out := <-answered:
				t.Fatalf("bug off: the read was answered (%v) before the leader applied up to its read index", out)
			case <-time.After(200 * time.Millisecond):
			}
			release()
			if out := wait(); out["code"] != 200 || out["value"] != jsonNumber("2") {
				t.Fatalf("bug off: GET = %v, want 2 once applied", out)
			}
		})
	}
}
