package nemesis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
)

// TestCorruptAgainstRaftd damages one node's data directory in every mode,
// several seeds each, on a real raftd cluster that holds acknowledged
// writes (snapshots included). Each time the node must refuse to start or
// recover; the cluster must keep serving; after the heal every node serves
// and every acknowledged write reads back.
func TestCorruptAgainstRaftd(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	addrs := map[string]string{}
	for _, id := range tc.env.Cluster.Nodes() {
		addrs[id] = tc.env.Cluster.ClientAddr(id)
	}
	kv := client.New(addrs, client.Options{Timeout: 2 * time.Second, RetryIndefinite: 3, ClientID: "corrupt-test"})
	acked := map[string]int{}
	write := func(n int) {
		t.Helper()
		for i := range n {
			key := fmt.Sprintf("k%d", len(acked)+i)
			if _, err := kv.Put(ctx, key, i); err != nil {
				t.Fatalf("put %s: %v", key, err)
			}
			acked[key] = i
		}
	}
	write(60)
	outcomes := map[string]int{}
	for i, mode := range []string{CorruptFlipBits, CorruptZeroSector, CorruptTruncate} {
		for seed := range 2 {
			n := New(tc.env, Options{Kinds: []Kind{Corrupt}, Modes: map[Kind][]string{Corrupt: {mode}},
				Interval: 300 * time.Millisecond, Seed: int64(10*i + seed), MaxNodes: 3, MaxClockDrift: 0.2})
			if err := n.step(ctx); err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
			requireHealthy(t, ctx, tc.env, 3)
			write(20) // the cluster serves writes after every heal
		}
	}
	for key, want := range acked {
		got, found, _, err := kv.Get(ctx, key, false)
		if err != nil || !found || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("acknowledged %s=%d reads back %v (found %v, %v)", key, want, got, found, err)
		}
	}
	for _, e := range tc.readHistory(t) {
		if e.F != string(Corrupt)+"-end" {
			continue
		}
		v, _ := e.Value.(map[string]any)
		outcome, _ := v["outcome"].(string)
		if outcome != OutcomeRefused && outcome != OutcomeRecovered || v["file"] == nil {
			t.Fatalf("corrupt-end event without a start-up outcome and file: %v", v)
		}
		outcomes[outcome]++
	}
	if outcomes[OutcomeRefused]+outcomes[OutcomeRecovered] != 6 {
		t.Fatalf("outcomes %v, want one per fault (6)", outcomes)
	}
	t.Logf("start-up outcomes of 6 corrupted nodes: %v", outcomes)
}

// A node that refused to start on damaged data gets its data back as it was
// before the damage, and serves again; the backup is removed.
func TestCorruptHealRestoresARefusedNode(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	n, backup := refusedFollower(t, ctx, tc)
	if err := n.HealAll(context.Background()); err != nil {
		t.Fatalf("HealAll: %v", err)
	}
	requireHealthy(t, ctx, tc.env, 3)
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Fatalf("backup %s left behind: %v", backup, err)
	}
	if left := n.nodesIn(setCorrupted); len(left) != 0 {
		t.Fatalf("nodes still marked corrupted after HealAll: %v", left)
	}
}

// TestCorruptRestoreSurvivesPowerLoss: the data a corrupt heal puts back
// is durable. Under powerfs an unsynced restore is lost at the next power
// failure, and the node then refuses to start on its own identity file
// (a control campaign mixing corrupt and power showed exactly that).
func TestCorruptRestoreSurvivesPowerLoss(t *testing.T) {
	ctx, tc := startPowerCluster(t, 3)
	n, _ := refusedFollower(t, ctx, tc)
	if err := n.HealAll(ctx); err != nil {
		t.Fatalf("HealAll: %v", err)
	}
	requireHealthy(t, ctx, tc.env, 3)
	crashAll(t, ctx, tc, powerAll(tc, 1))
	requireHealthy(t, ctx, tc.env, 3)
}

// refusedFollower damages a follower's meta.json through the corrupt
// kind's own steps (mark, stop, back up, damage) and checks that the node
// then refuses to start. It returns the nemesis that owns the damage and
// the backup its heal must put back.
func refusedFollower(t *testing.T, ctx context.Context, tc testCluster) (*Nemesis, string) {
	t.Helper()
	dd := tc.env.Cluster.(runtime.DataDirs)
	v := currentView(ctx, tc.env)
	victim := minus(v.nodes, []string{v.leader})[0]
	n := New(tc.env, Options{Kinds: []Kind{Corrupt}, Interval: time.Second, MaxNodes: 3, MaxClockDrift: 0.2})
	n.markNode(setCorrupted, victim)
	if err := tc.env.Cluster.Stop(ctx, victim); err != nil {
		t.Fatal(err)
	}
	var backup string
	err := dd.WithDataDir(ctx, victim, func(dir string) error {
		var err error
		if backup, err = backupDataDir(dir); err != nil {
			return err
		}
		corruptBackups.put(n, victim, backup)
		return writeDurable(filepath.Join(dir, "meta.json"), []byte("{garbage"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.env.Cluster.Restart(ctx, victim); err == nil {
		t.Fatal("raftd started with a garbage meta.json")
	}
	return n, backup
}
