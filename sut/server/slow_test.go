package server

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/raft"
)

func TestFaultSlowNeedsFaultInjection(t *testing.T) {
	s := newTestCluster(t, 1, nil).waitLeader()
	for _, method := range []string{"POST", "GET"} {
		code, body, _ := do(t, s, method, "/fault/slow", `{"apply_ms": 5}`, nil)
		if code != 404 || !strings.Contains(body["error"].(string), "--fault-injection") {
			t.Errorf("%s /fault/slow without --fault-injection: %d %v, want 404", method, code, body)
		}
	}
	if got := s.slow.body(); got != (SlowBody{}) {
		t.Fatalf("a refused call changed the delays: %+v", got)
	}
}

func TestFaultSlowBadBodiesNameTheField(t *testing.T) {
	s := newTestCluster(t, 1, func(cfg *Config) { cfg.FaultInjection = true }).waitLeader()
	cases := []struct{ body, want string }{
		{``, "body: empty"},
		{`[1]`, "body: not a JSON object"},
		{`{"apply_ms": -1}`, "field apply_ms: -1 is out of range"},
		{`{"fsync_ms": 10001}`, "field fsync_ms: 10001 is out of range [0, 10000]"},
		{`{"net_ms": 1.5}`, "field net_ms: \"1.5\" is not an integer"},
		{`{"apply_ms": "slow"}`, "field apply_ms: want an integer"},
		{`{"apply_ms": null}`, "field apply_ms: want an integer"},
		{`{"disk_ms": 5}`, "field disk_ms: unknown (allowed: fsync_ms, apply_ms, net_ms)"},
		// A bad field refuses the whole call, even with good ones beside it.
		{`{"fsync_ms": 100, "apply_ms": -5}`, "field apply_ms"},
	}
	for _, tc := range cases {
		code, body, _ := do(t, s, "POST", "/fault/slow", tc.body, nil)
		msg, _ := body["error"].(string)
		if code != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("POST /fault/slow %s: %d %q, want 400 mentioning %q", tc.body, code, msg, tc.want)
		}
	}
	if got := s.slow.body(); got != (SlowBody{}) {
		t.Fatalf("refused calls changed the delays: %+v", got)
	}
}

func TestFaultSlowSetsAndReports(t *testing.T) {
	s := newTestCluster(t, 1, func(cfg *Config) { cfg.FaultInjection = true }).waitLeader()
	code, body, _ := do(t, s, "POST", "/fault/slow", `{"fsync_ms": 20, "apply_ms": 30, "net_ms": 40}`, nil)
	if code != 200 || body["fsync_ms"] != json.Number("20") || body["apply_ms"] != json.Number("30") || body["net_ms"] != json.Number("40") {
		t.Fatalf("POST /fault/slow: %d %v", code, body)
	}
	// An absent field keeps its delay.
	do(t, s, "POST", "/fault/slow", `{"apply_ms": 0}`, nil)
	code, body, _ = do(t, s, "GET", "/fault/slow", nil, nil)
	if code != 200 || body["fsync_ms"] != json.Number("20") || body["apply_ms"] != json.Number("0") || body["net_ms"] != json.Number("40") {
		t.Fatalf("GET /fault/slow after healing apply only: %d %v", code, body)
	}
}

// timedPut writes through the leader and returns how long it took.
func timedPut(t *testing.T, c *testCluster, key string, value int) time.Duration {
	t.Helper()
	start := time.Now()
	if code, out := c.leaderDo("PUT", "/kv/"+key, map[string]any{"value": value}); code != 200 {
		t.Fatalf("PUT %s: %d %v", key, code, out)
	}
	return time.Since(start)
}

// A slow disk delays every synced write, so a write on a single node (which
// commits once its own fsync is done) takes at least the delay; healing
// makes writes fast again.
func TestFaultSlowFsyncDelaysWrites(t *testing.T) {
	c := newTestCluster(t, 1, func(cfg *Config) { cfg.FaultInjection = true })
	s := c.waitLeader()
	const delay = 300 * time.Millisecond
	do(t, s, "POST", "/fault/slow", `{"fsync_ms": 300}`, nil)
	if took := timedPut(t, c, "x", 1); took < delay {
		t.Fatalf("write with a %v fsync delay took %v", delay, took)
	}
	requireHealCutsShort(t, c, s, "fsync_ms")
}

// requireHealCutsShort holds a write behind the longest delay of field, heals
// it, and checks the write then completes: a heal releases what the delay
// holds instead of waiting it out. The bound is the 10 s delay itself, so a
// loaded machine cannot make this fail.
func requireHealCutsShort(t *testing.T, c *testCluster, s *Server, field string) {
	t.Helper()
	const longest = maxSlowMs * time.Millisecond
	do(t, s, "POST", "/fault/slow", `{"`+field+`": `+strconv.Itoa(maxSlowMs)+`}`, nil)
	start := time.Now()
	done := make(chan int, 1)
	go func() {
		code, _ := c.leaderDo("PUT", "/kv/held", map[string]any{"value": 1})
		done <- code
	}()
	time.Sleep(100 * time.Millisecond)
	do(t, s, "POST", "/fault/slow", `{"`+field+`": 0}`, nil)
	code := <-done
	if took := time.Since(start); code != 200 || took >= longest {
		t.Fatalf("write held by a %v %s delay: %d after %v despite the heal", longest, field, code, took)
	}
}

// An apply delay on a follower leaves its state machine behind its commit
// index for that long, while the cluster commits at full speed; healing lets
// it catch up at once.
func TestFaultSlowApplyLagsTheStateMachine(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.FaultInjection = true })
	leader := c.waitLeader()
	var follower *Server
	for id, s := range c.running() {
		if id != leader.cfg.ID {
			follower = s
			break
		}
	}
	do(t, follower, "POST", "/fault/slow", `{"apply_ms": 10000}`, nil)
	if took := timedPut(t, c, "x", 1); took >= maxSlowMs*time.Millisecond {
		t.Fatalf("a follower's apply delay held up the leader's write for %v", took)
	}
	written := c.waitLeader().status.Load().Commit
	// The follower learns the commit with the next heartbeat, but must not
	// apply it.
	deadline := time.Now().Add(5 * time.Second)
	for follower.status.Load().Commit < written {
		if time.Now().After(deadline) {
			t.Fatalf("follower never learned commit %d", written)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if applied := follower.reg.appliedIndex(); applied >= written {
		t.Fatalf("follower applied %d >= commit %d despite a 10 s apply delay", applied, written)
	}
	if v, _ := follower.localRead("x"); v != nil {
		t.Fatalf("follower's state machine already has x = %v", v)
	}
	do(t, follower, "POST", "/fault/slow", `{"apply_ms": 0}`, nil)
	for follower.reg.appliedIndex() < written {
		if time.Now().After(deadline) {
			t.Fatalf("after healing the follower still applied only %d of %d", follower.reg.appliedIndex(), written)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if v, found := follower.localRead("x"); !found || fmt.Sprint(v) != "1" {
		t.Fatalf("after healing the follower's x = %v (found %v), want 1", v, found)
	}
}

// A net delay on the leader holds its appends, so a write (which commits
// only once a follower has it) takes at least the delay.
func TestFaultSlowNetDelaysMessages(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.FaultInjection = true })
	leader := c.waitLeader()
	// Well under the election timeout (10-20 ticks of 20 ms): heartbeats
	// still arrive in time.
	const delay = 100 * time.Millisecond
	do(t, leader, "POST", "/fault/slow", `{"net_ms": 100}`, nil)
	start := time.Now()
	code, out, _ := do(t, leader, "PUT", "/kv/x", `{"value": 1}`, nil)
	took := time.Since(start)
	if code != 200 {
		t.Fatalf("PUT with a net delay: %d %v", code, out)
	}
	if took < delay {
		t.Fatalf("write with a %v net delay on the leader took %v", delay, took)
	}
	requireHealCutsShort(t, c, leader, "net_ms")
}

// Held messages leave in the order they were produced, also when the delay
// is healed while some are held.
func TestSlowNetKeepsOrder(t *testing.T) {
	var f slowFaults
	got := make(chan uint64, 100)
	tr := funcTransport(func(msgs []raft.Message) {
		for _, m := range msgs {
			got <- m.Index
		}
	})
	stop := make(chan struct{})
	defer close(stop)
	f.set(SlowBody{NetMs: 50})
	for i := uint64(1); i <= 5; i++ {
		f.send(tr, stop, []raft.Message{{Index: i}})
	}
	if len(got) != 0 {
		t.Fatal("a delayed message left at once")
	}
	f.set(SlowBody{})
	f.send(tr, stop, []raft.Message{{Index: 6}}) // queues behind the held ones
	for want := uint64(1); want <= 6; want++ {
		select {
		case i := <-got:
			if i != want {
				t.Fatalf("message %d arrived in position %d", i, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("message %d never left", want)
		}
	}
	f.send(tr, stop, []raft.Message{{Index: 7}})
	if i := <-got; i != 7 {
		t.Fatalf("undelayed send delivered %d", i)
	}
}

type funcTransport func([]raft.Message)

func (f funcTransport) Send(msgs []raft.Message) { f(msgs) }
func (f funcTransport) Close() error             { return nil }
