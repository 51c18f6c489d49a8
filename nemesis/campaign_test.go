package nemesis

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/system"
	"github.com/faultline/faultline/workload"
)

// TestWorkloadUnderEveryFault is a small campaign: the workload and the
// nemesis (every kind) run side by side on five raftd processes, then
// HealAll, recovery and final reads. The combined history must be
// well-formed, every fault must be ended, and every key must be read at the
// end.
func TestWorkloadUnderEveryFault(t *testing.T) {
	t.Parallel() // overlaps with the docker test, which mostly waits
	ctx, tc := startCluster(t, 5)
	addrs := func() map[string]string {
		m := map[string]string{}
		for _, id := range tc.env.Cluster.Nodes() {
			m[id] = tc.env.Cluster.ClientAddr(id)
		}
		return m
	}
	wcfg := workload.Config{System: system.Raftd(system.RaftdOptions{}), Workload: workload.Append, Keys: 4, Concurrency: 5, Timeout: 500 * time.Millisecond, Seed: 3}
	n := New(tc.env, Options{Kinds: AllKinds, Interval: 300 * time.Millisecond, Seed: 3, MaxNodes: 5, MaxClockDrift: 0.2})

	runCtx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var workErr, nemErr error
	wg.Go(func() { workErr = workload.Run(runCtx, wcfg, addrs, tc.env.Rec) })
	wg.Go(func() { nemErr = n.Run(runCtx) })
	wg.Wait()
	if workErr != nil || nemErr != nil {
		t.Fatalf("workload: %v; nemesis: %v", workErr, nemErr)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	requireHealthy(t, ctx, tc.env, 5)
	if err := workload.FinalReads(ctx, wcfg, addrs, tc.env.Rec); err != nil {
		t.Fatal(err)
	}
	events := tc.readHistory(t)
	kinds := requireAllEnded(t, events)
	if len(kinds) < 3 {
		t.Errorf("fault intervals %v: want several kinds in 4 s", kinds)
	}
	ops, err := history.Pair(events)
	if err != nil {
		t.Fatal(err)
	}
	final, ok := 0, 0
	for _, op := range ops {
		if op.Process >= workload.FinalReadProcessBase && op.Type == history.Ok {
			final++
		}
		if op.Type == history.Ok {
			ok++
		}
	}
	if final != wcfg.Keys {
		t.Errorf("%d successful final reads, want %d", final, wcfg.Keys)
	}
	t.Logf("%d events, %d operations (%d ok), faults %v", len(events), len(ops), ok, kinds)
}
