package nemesis

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// These tests drive the nemesis against real raftd processes under the
// process runtime: no Docker, nothing faked. Each fault kind is played,
// HealAll must leave a cluster that recovers, and the history must pair
// every start with its end.

const recoveryBound = 30 * time.Second

type testCluster struct {
	env  Env
	path string // history.jsonl
}

func startCluster(t *testing.T, nodes int) (context.Context, testCluster) {
	t.Helper()
	return startClusterOn(t, runtime.NameProcess, nodes)
}

// requireDocker skips without a Docker engine, except in CI (CI=true),
// where a missing engine is a failure.
func requireDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := runtime.DockerAvailable(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no Docker engine answers: %v", err)
		}
		t.Skipf("no Docker engine: %v", err)
	}
}

// startClusterOn starts nodes raftd processes on runtime rtName; tweaks
// change the spec first (a planted bug, power-loss disks).
func startClusterOn(t *testing.T, rtName string, nodes int, tweaks ...func(*runtime.Spec)) (context.Context, testCluster) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a raftd cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
	}
	rt, err := runtime.NewWithOptions(rtName, runtime.Options{Log: log, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	spec := runtime.Spec{
		Campaign: fmt.Sprintf("nemesis-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6),
		Nodes:    ids,
		System:   system.Raftd(system.RaftdOptions{}),
	}
	for _, tweak := range tweaks {
		tweak(&spec)
	}
	c, err := rt.Start(ctx, spec)
	if err != nil {
		t.Fatalf("starting the cluster: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := history.NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	addrs := map[string]string{}
	for _, id := range c.Nodes() {
		addrs[id] = c.ClientAddr(id)
	}
	admin := client.New(addrs, client.Options{Timeout: 2 * time.Second, ClientID: "nemesis-test"})
	env := Env{Cluster: c, Admin: admin, Rec: rec, Log: log}
	if err := WaitRecovery(ctx, env, recoveryBound); err != nil {
		t.Fatalf("fresh cluster: %v", err)
	}
	return ctx, testCluster{env: env, path: path}
}

// readHistory closes the recorder and returns the validated events.
func (tc testCluster) readHistory(t *testing.T) []history.Event {
	t.Helper()
	if err := tc.env.Rec.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := history.ReadFile(tc.path)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func requireAllEnded(t *testing.T, events []history.Event) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	for _, iv := range history.NemesisIntervals(events) {
		if iv.Open() {
			t.Errorf("fault %s was never ended", iv.Description)
		}
		kinds[iv.Kind]++
	}
	return kinds
}

// requireHealthy checks what HealAll promises beyond recovery: clocks reset
// and every running node a voter, within [3, max].
func requireHealthy(t *testing.T, ctx context.Context, env Env, maxNodes int) {
	t.Helper()
	if err := WaitRecovery(ctx, env, recoveryBound); err != nil {
		t.Fatal(err)
	}
	nodes := syncAdmin(env)
	_, lead, err := leaderStatus(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	voters := slices.Sorted(slices.Values(lead.Config.Voters))
	if !slices.Equal(voters, nodes) || len(voters) < minVoters || len(voters) > maxNodes {
		t.Errorf("voters %v, running nodes %v: want the same set, 3..%d of them", voters, nodes, maxNodes)
	}
	for id, s := range statuses(ctx, env, nodes) {
		if s.err != nil {
			t.Errorf("%s: %v", id, s.err)
			continue
		}
		if s.st.Clock.OffsetMs != 0 || s.st.Clock.Rate != 1 {
			t.Errorf("%s clock offset %d ms rate %g after HealAll, want 0 and 1", id, s.st.Clock.OffsetMs, s.st.Clock.Rate)
		}
	}
}

func TestEveryKindIsHealedOnARaftdCluster(t *testing.T) {
	everyKindIsHealed(t, runtime.NameProcess, 2)
}

// TestEveryKindIsHealedOnDocker plays the same faults through the docker
// runtime (nftables inside the containers, the cgroup freezer, container
// kill and restart).
// It runs in parallel with the other parallel tests: it mostly waits for
// containers.
func TestEveryKindIsHealedOnDocker(t *testing.T) {
	requireDocker(t)
	t.Parallel()
	everyKindIsHealed(t, runtime.NameDocker, 1)
}

// everyKindIsHealed plays rounds faults of each kind, each followed by
// HealAll and a health check.
func everyKindIsHealed(t *testing.T, rtName string, rounds int) {
	ctx, tc := startClusterOn(t, rtName, 5)
	for i, k := range AllKinds {
		n := New(tc.env, Options{Kinds: []Kind{k}, Interval: 400 * time.Millisecond, Seed: int64(i), MaxNodes: 5, MaxClockDrift: 0.2})
		for range rounds {
			if err := n.step(ctx); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if cur := n.Current(); cur != "" {
				t.Fatalf("%s: fault %q still active after its end", k, cur)
			}
		}
		if err := n.HealAll(ctx); err != nil {
			t.Fatalf("HealAll after %s: %v", k, err)
		}
		requireHealthy(t, ctx, tc.env, 5)
	}
	kinds := requireAllEnded(t, tc.readHistory(t))
	for _, k := range AllKinds {
		if kinds[string(k)] != rounds {
			t.Errorf("%d %s intervals, want %d (kinds seen: %v)", kinds[string(k)], k, rounds, kinds)
		}
	}
	if kinds["heal"] != len(AllKinds) {
		t.Errorf("%d heal events, want one per HealAll", kinds["heal"])
	}
}

func TestHealAllEndsAnActiveFaultAndIsIdempotent(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	n := New(tc.env, Options{Kinds: AllKinds, Interval: time.Second, MaxNodes: 3, MaxClockDrift: 0.2})
	v := currentView(ctx, tc.env)
	// Several faults at once, as only an interrupted run would leave them:
	// the leader isolated, a follower killed, another paused, clocks off.
	faults := []fault{
		{Kind: Partition, Mode: TopoIsolateLeader, Groups: IsolateGroups(v.nodes, v.leader)},
		{Kind: Kill, Mode: TargetOne, Targets: []string{minus(v.nodes, []string{v.leader})[0]}},
		{Kind: Pause, Mode: TargetOne, Targets: []string{minus(v.nodes, []string{v.leader})[1]}},
		{Kind: Clock, Mode: ClockBump, Targets: []string{v.leader},
			OffsetsMs: map[string]int64{v.leader: -1500}, Rates: map[string]float64{v.leader: 1}},
	}
	faults[0].Grudge = GroupsGrudge(faults[0].Groups)
	for _, f := range faults {
		if _, err := n.start(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if cur := n.Current(); strings.Count(cur, ";") != len(faults)-1 || !strings.HasPrefix(cur, "partition isolate-leader") {
		t.Fatalf("Current() = %q, want all %d active faults", cur, len(faults))
	}
	for range 2 {
		if err := n.HealAll(ctx); err != nil {
			t.Fatalf("HealAll: %v", err)
		}
		requireHealthy(t, ctx, tc.env, 3)
	}
	if n.Current() != "" {
		t.Fatalf("Current() = %q after HealAll", n.Current())
	}
	events := tc.readHistory(t)
	requireAllEnded(t, events)
	healedBy := 0
	for _, e := range events {
		if v, ok := e.Value.(map[string]any); ok && strings.HasSuffix(e.F, "-end") {
			if v["healed_by"] != "heal-all" {
				t.Errorf("%s not marked healed_by heal-all: %v", e.F, v)
			}
			healedBy++
		}
	}
	if healedBy != len(faults) {
		t.Errorf("%d end events, want one per fault (%d)", healedBy, len(faults))
	}
}

func TestRunStopsAndHealsWhenCancelled(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	n := New(tc.env, Options{Kinds: []Kind{Partition, Kill, Pause}, Interval: 300 * time.Millisecond, Seed: 4, MaxNodes: 3})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	// Cancel in the middle of some fault.
	deadline := time.Now().Add(time.Minute)
	for n.Current() == "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n.Current() != "" {
		t.Fatalf("Run returned with %q still active", n.Current())
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	requireHealthy(t, ctx, tc.env, 3)
	if kinds := requireAllEnded(t, tc.readHistory(t)); len(kinds) < 2 {
		t.Fatalf("intervals %v: want a fault and the heal", kinds)
	}
}

func TestWaitRecoveryNamesWhatDidNotRecover(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	victim := tc.env.Cluster.Nodes()[0]
	if err := tc.env.Cluster.Kill(ctx, victim); err != nil {
		t.Fatal(err)
	}
	err := WaitRecovery(ctx, tc.env, time.Second)
	if err == nil || !strings.Contains(err.Error(), victim+" does not answer") {
		t.Fatalf("WaitRecovery with %s killed: %v, want an error naming it", victim, err)
	}
	if err := tc.env.Cluster.Restart(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if err := WaitRecovery(ctx, tc.env, recoveryBound); err != nil {
		t.Fatal(err)
	}
}

func TestHealAllFinishesInterruptedMembershipChanges(t *testing.T) {
	ctx, tc := startCluster(t, 4)
	n := New(tc.env, Options{Kinds: []Kind{Membership}, Interval: time.Second, MaxNodes: 4})
	// What an interrupted remove and an interrupted add leave behind: n4 out
	// of the configuration but still running, n5 running but never added.
	n.mark(func(d *damage) { d.membership = true })
	if err := tc.env.Admin.RemoveMember(ctx, "n4"); err != nil {
		t.Fatal(err)
	}
	if err := tc.env.Cluster.AddNode(ctx, "n5"); err != nil {
		t.Fatal(err)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	requireHealthy(t, ctx, tc.env, 4)
	if nodes := tc.env.Cluster.Nodes(); slices.Contains(nodes, "n4") || slices.Contains(nodes, "n5") {
		t.Fatalf("nodes %v: the non-members n4 and n5 must be gone", nodes)
	}
	events := tc.readHistory(t)
	last := events[len(events)-1]
	actions := fmt.Sprint(last.Value)
	if last.F != "heal" || !strings.Contains(actions, "deleted non-member node n4") || !strings.Contains(actions, "deleted non-member node n5") {
		t.Fatalf("last event %s %v: want a heal listing both repairs", last.F, last.Value)
	}
}
