package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/runtime/powerfs"
	"github.com/faultline/faultline/sut/system"
)

// startPowerCluster starts raftd on powerfs disks, with the planted bugs
// given. Mounting needs root and /dev/fuse: without them the test skips,
// except in CI, where it fails.
func startPowerCluster(t *testing.T, nodes int, planted ...string) (context.Context, testCluster) {
	t.Helper()
	if err := powerfs.Usable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but FUSE is unusable: %v", err)
		}
		t.Skipf("power loss needs FUSE: %v", err)
	}
	return startClusterOn(t, runtime.NameProcess, nodes, func(s *runtime.Spec) {
		s.PowerLoss = true
		s.System = system.Raftd(system.RaftdOptions{Bugs: planted})
	})
}

// writeAcked writes keys k0..k(n-1) one by one and returns those
// acknowledged.
func writeAcked(t *testing.T, ctx context.Context, env Env, n int) []string {
	t.Helper()
	return writeAckedKeys(t, ctx, env, "k", n)
}

// writeAckedKeys writes keys prefix0..prefix(n-1) one by one and returns
// those acknowledged.
func writeAckedKeys(t *testing.T, ctx context.Context, env Env, prefix string, n int) []string {
	t.Helper()
	c := dataClient(env)
	defer c.Close()
	var acked []string
	for i := range n {
		key := fmt.Sprintf("%s%d", prefix, i)
		if _, err := c.Put(ctx, key, i); err == nil {
			acked = append(acked, key)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	return acked
}

// missingAfter returns the acknowledged keys that a linearizable read no
// longer finds.
func missingAfter(t *testing.T, ctx context.Context, env Env, acked []string) []string {
	t.Helper()
	if err := WaitRecovery(ctx, env, recoveryBound); err != nil {
		t.Fatal(err)
	}
	c := dataClient(env)
	defer c.Close()
	var missing []string
	for _, key := range acked {
		var found bool
		err := retryReset(ctx, func() error {
			var err error
			_, found, _, err = c.Get(ctx, key, false)
			return err
		})
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		if !found {
			missing = append(missing, key)
		}
	}
	return missing
}

func dataClient(env Env) *client.Client {
	addrs := map[string]string{}
	for _, id := range env.Cluster.Nodes() {
		addrs[id] = env.Cluster.ClientAddr(id)
	}
	return client.New(addrs, client.Options{Timeout: 5 * time.Second, ClientID: fmt.Sprintf("power-test-%d", time.Now().UnixNano())})
}

// crashAll plays fault f through the nemesis: its start, then HealAll.
func crashAll(t *testing.T, ctx context.Context, tc testCluster, f fault) {
	t.Helper()
	n := New(tc.env, Options{Kinds: []Kind{f.Kind}, Interval: time.Second, MaxNodes: 3, MaxClockDrift: 0.2})
	if _, err := n.start(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatalf("HealAll after %s: %v", f.Kind, err)
	}
}

func powerAll(tc testCluster, seed uint64) fault {
	p := newTestPlanner(int64(seed), []Kind{Power})
	return powerKind{}.plan(p, PowerAll, currentView(context.Background(), tc.env))
}

// TestPowerLosesCommitsOfAckBeforeFsync: with the planted bug, the WAL never
// fsyncs what it acknowledges, so cutting the power of every node loses
// acknowledged writes; the end event says which files lost how much.
func TestPowerLosesCommitsOfAckBeforeFsync(t *testing.T) {
	ctx, tc := startPowerCluster(t, 3, bugs.AckBeforeFsync)
	acked := writeAcked(t, ctx, tc.env, 20)
	crashAll(t, ctx, tc, powerAll(tc, 1))
	missing := missingAfter(t, ctx, tc.env, acked)
	if len(missing) == 0 {
		t.Fatalf("all %d acknowledged writes survived a power failure of every node under ack-before-fsync", len(acked))
	}
	t.Logf("power failure lost %d of %d acknowledged writes: %v", len(missing), len(acked), missing)
	var lostBytes int64
	for _, e := range tc.readHistory(t) {
		if e.F != string(Power)+"-end" {
			continue
		}
		v := e.Value.(map[string]any)
		for _, files := range v["lost"].(map[string]any) {
			for _, fl := range files.([]any) {
				n, err := fl.(map[string]any)["dropped_bytes"].(json.Number).Int64()
				if err != nil {
					t.Fatal(err)
				}
				lostBytes += n
			}
		}
	}
	if lostBytes == 0 {
		t.Error("the power-end event reports no dropped bytes")
	}
}

// TestKillKeepsCommitsOfAckBeforeFsync: the same bug survives a crash of
// every node, because a kill keeps the page cache: power is a fault of its
// own.
func TestKillKeepsCommitsOfAckBeforeFsync(t *testing.T) {
	ctx, tc := startPowerCluster(t, 3, bugs.AckBeforeFsync)
	acked := writeAcked(t, ctx, tc.env, 20)
	v := currentView(ctx, tc.env)
	crashAll(t, ctx, tc, fault{Kind: Kill, Mode: TargetOne, Targets: v.nodes})
	if missing := missingAfter(t, ctx, tc.env, acked); len(missing) > 0 {
		t.Fatalf("a crash of every node lost acknowledged writes %v under ack-before-fsync", missing)
	}
}

// TestPowerKeepsCommitsOfCorrectRaftd: correct raftd fsyncs before it
// acknowledges, so a power failure of every node, torn or not, loses
// nothing acknowledged, and the nemesis heals it (every node back).
func TestPowerKeepsCommitsOfCorrectRaftd(t *testing.T) {
	ctx, tc := startPowerCluster(t, 3)
	acked := writeAcked(t, ctx, tc.env, 20)
	for i, mode := range []string{PowerAll, PowerAllTorn} {
		p := newTestPlanner(int64(i), []Kind{Power})
		crashAll(t, ctx, tc, powerKind{}.plan(p, mode, currentView(ctx, tc.env)))
		if missing := missingAfter(t, ctx, tc.env, acked); len(missing) > 0 {
			t.Fatalf("%s lost acknowledged writes %v of correct raftd", mode, missing)
		}
		requireHealthy(t, ctx, tc.env, 3)
	}
	kinds := requireAllEnded(t, tc.readHistory(t))
	if kinds[string(Power)] != 2 {
		t.Errorf("%d power intervals, want 2", kinds[string(Power)])
	}
}

func TestPowerIsOptInAndNeedsNothingFromTheSystem(t *testing.T) {
	all, err := ParseSelection("all")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range all.Kinds {
		if k == Power {
			t.Fatal(`"all" plays power, which needs its disks set up before the cluster starts`)
		}
	}
	sel, err := ParseSelection("power:majority-torn,partition")
	if err != nil {
		t.Fatal(err)
	}
	if !sel.NeedsRuntime(OpPowerLoss) {
		t.Error("a selection with power does not ask for power-loss disks")
	}
	if all.NeedsRuntime(OpPowerLoss) {
		t.Error(`"all" asks for power-loss disks`)
	}
	if _, err := sel.ForSystem("etcd", system.Capabilities{}); err != nil {
		t.Errorf("power refused for a system without capabilities: %v", err)
	}
}

func TestPowerPlanTargets(t *testing.T) {
	v := view{nodes: []string{"n1", "n2", "n3", "n4", "n5"}, leader: "n1"}
	p := newTestPlanner(5, []Kind{Power})
	for mode, size := range map[string]int{PowerOne: 1, PowerMajority: 3, PowerAll: 5, PowerMajorityTorn: 3} {
		f := powerKind{}.plan(p, mode, v)
		if len(f.Targets) != size {
			t.Errorf("%s hits %v, want %d nodes", mode, f.Targets, size)
		}
		want := powerfs.LoseUnsynced
		if mode == PowerMajorityTorn {
			want = powerfs.LoseTorn
		}
		if got := f.eventValue()["loss"]; got != want {
			t.Errorf("%s loss %v, want %s", mode, got, want)
		}
	}
}

// startDockerFaultCluster starts raftd in Docker with power-loss disks and
// link forwarders (cmd/faultinit in every container). Without an engine
// the test skips, except in CI, where it fails.
func startDockerFaultCluster(t *testing.T, planted ...string) (context.Context, testCluster) {
	t.Helper()
	requireDocker(t)
	return startClusterOn(t, runtime.NameDocker, 3, func(s *runtime.Spec) {
		s.PowerLoss, s.LinkFaults = true, true
		s.System = system.Raftd(system.RaftdOptions{Bugs: planted})
	})
}

// TestPowerOnDockerLosesCommitsOfAckBeforeFsync: inside containers
// (powerfs mounted by faultinit) a kill of every node keeps the writes
// ack-before-fsync acknowledged (faultinit syncs the cache the container
// would otherwise take with it), and a power failure of every node loses
// them; the nemesis heals both (every node back).
func TestPowerOnDockerLosesCommitsOfAckBeforeFsync(t *testing.T) {
	ctx, tc := startDockerFaultCluster(t, bugs.AckBeforeFsync)
	acked := writeAcked(t, ctx, tc.env, 20)
	crashAll(t, ctx, tc, fault{Kind: Kill, Mode: TargetOne, Targets: currentView(ctx, tc.env).nodes})
	if missing := missingAfter(t, ctx, tc.env, acked); len(missing) > 0 {
		t.Fatalf("a kill of every container lost acknowledged writes %v under ack-before-fsync", missing)
	}
	acked = writeAckedKeys(t, ctx, tc.env, "p", 20)
	crashAll(t, ctx, tc, powerAll(tc, 1))
	missing := missingAfter(t, ctx, tc.env, acked)
	if len(missing) == 0 {
		t.Fatalf("all %d acknowledged writes survived a power failure of every container under ack-before-fsync", len(acked))
	}
	t.Logf("power failure lost %d of %d acknowledged writes: %v", len(missing), len(acked), missing)
	requireHealthy(t, ctx, tc.env, 3)
}
