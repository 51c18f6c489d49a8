package server

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A follower whose WAL loses its tail after acknowledging it (truncated
// while the node was down: a torn tail to the WAL) catches up from the
// leader when it restarts, instead of staying behind forever.
func TestFollowerWithTruncatedWALCatchesUp(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	lead := c.waitLeader()
	for i := range 60 {
		if code, body := c.leaderDo("PUT", fmt.Sprintf("/kv/k%d", i), map[string]any{"value": i}); code != 200 {
			t.Fatalf("PUT: %d %v", code, body)
		}
	}
	var victim string
	for id := range c.peers {
		if id != lead.cfg.ID {
			victim = id
			break
		}
	}
	c.waitApplied(lead.status.Load().Commit)
	c.stop(victim)
	segs, _ := filepath.Glob(filepath.Join(c.dir, victim, "wal-*.log"))
	st, err := os.Stat(segs[len(segs)-1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(segs[len(segs)-1], st.Size()/2+3); err != nil {
		t.Fatal(err)
	}
	c.start(victim)
	for i := range 5 {
		if code, body := c.leaderDo("PUT", fmt.Sprintf("/kv/after%d", i), map[string]any{"value": i}); code != 200 {
			t.Fatalf("PUT after the restart: %d %v", code, body)
		}
	}
	want := c.waitLeader().status.Load().Commit
	deadline := time.Now().Add(20 * time.Second)
	for c.server(victim).reg.appliedIndex() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s applied %d, leader committed %d: the follower never caught up", victim, c.server(victim).reg.appliedIndex(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
