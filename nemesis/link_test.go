package nemesis

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
)

// everyLink puts lf on every directed link between nodes.
func everyLink(nodes []string, lf runtime.LinkFault) runtime.LinkFaults {
	out := runtime.LinkFaults{}
	for _, dst := range nodes {
		out[dst] = map[string]runtime.LinkFault{}
		for _, src := range minus(nodes, []string{dst}) {
			out[dst][src] = lf
		}
	}
	return out
}

func linkFaultsOf(t *testing.T, env Env) runtime.LinkFaults {
	t.Helper()
	lf, ok := env.Cluster.(runtime.LinkFaulter)
	if !ok {
		t.Fatalf("%T is not a runtime.LinkFaulter", env.Cluster)
	}
	return lf.LinkFaults()
}

// TestLinkFaultsTakeEffectOnRaftdAndAreHealed plays every mode as the
// planner draws it (in place while it lasts, gone after the heal), then
// shows that the proxy really acts on raftd's traffic: a write must wait
// for a delayed append to reach a follower, and no write commits while
// every link resets every chunk.
func TestLinkFaultsTakeEffectOnRaftdAndAreHealed(t *testing.T) {
	ctx, tc := startCluster(t, 3)
	n := New(tc.env, Options{Kinds: []Kind{Link}, Interval: time.Second, MaxNodes: 3, MaxClockDrift: 0.2})
	for i, mode := range KindModes(Link) {
		p := newTestPlanner(int64(i), []Kind{Link})
		f := linkKind{}.plan(p, mode, currentView(ctx, tc.env))
		if _, err := n.start(ctx, f); err != nil {
			t.Fatal(err)
		}
		if got := linkFaultsOf(t, tc.env); !reflect.DeepEqual(got, f.Params.(*linkPlan).Faults) {
			t.Errorf("%s: links in place %v, want %v", mode, got, f.Params.(*linkPlan).Faults)
		}
		if err := n.HealAll(ctx); err != nil {
			t.Fatalf("HealAll after %s: %v", mode, err)
		}
		if got := linkFaultsOf(t, tc.env); got != nil {
			t.Fatalf("%s: links still disturbed after the heal: %v", mode, got)
		}
		requireHealthy(t, ctx, tc.env, 3)
	}

	nodes := currentView(ctx, tc.env).nodes
	// A round trip of two delays must stay well inside the leader's
	// check-quorum window (the 500 ms minimum election timeout), or the
	// leader steps down and no write commits at all.
	const delay = 150 * time.Millisecond
	delayed := fault{Kind: Link, Mode: LinkDelay, Targets: nodes,
		Params: &linkPlan{Faults: everyLink(nodes, runtime.LinkFault{DelayMs: delay.Milliseconds()})}}
	if _, err := n.start(ctx, delayed); err != nil {
		t.Fatal(err)
	}
	c := dataClient(tc.env)
	defer c.Close()
	if took := timedWrite(t, ctx, c, "delayed"); took < delay {
		t.Errorf("a write committed in %v, under the %v that every append takes to reach a follower", took, delay)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}

	reset := fault{Kind: Link, Mode: LinkLoss, Targets: nodes,
		Params: &linkPlan{Faults: everyLink(nodes, runtime.LinkFault{ResetPct: 100})}}
	if _, err := n.start(ctx, reset); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	_, err := c.Put(short, "cut", 1)
	cancel()
	if err == nil {
		t.Error("a write committed while every peer link reset every chunk")
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	requireHealthy(t, ctx, tc.env, 3)
	kinds := requireAllEnded(t, tc.readHistory(t))
	if want := len(KindModes(Link)) + 2; kinds[string(Link)] != want {
		t.Errorf("%d link intervals, want %d", kinds[string(Link)], want)
	}
}

// timedWrite writes key and returns how long the acknowledged attempt
// took. On a loaded machine a delayed heartbeat can cost the leader its
// lease; the write then fails and is tried again once a leader can have
// been elected (at most five times), since only the time of a committed
// write tells anything.
func timedWrite(t *testing.T, ctx context.Context, c *client.Client, key string) time.Duration {
	t.Helper()
	var err error
	for range 5 {
		began := time.Now()
		if _, err = c.Put(ctx, key, 1); err == nil {
			return time.Since(began)
		}
		t.Logf("write %s: %v (trying again)", key, err)
		time.Sleep(time.Second)
	}
	t.Fatalf("write %s: %v", key, err)
	return 0
}

func TestLinkPlanCoversTheTargetsLinks(t *testing.T) {
	v := view{nodes: []string{"n1", "n2", "n3", "n4", "n5"}, leader: "n1"}
	for seed := range int64(20) {
		p := newTestPlanner(seed, []Kind{Link})
		for _, mode := range KindModes(Link) {
			f := linkKind{}.plan(p, mode, v)
			plan := f.Params.(*linkPlan)
			if len(f.Targets) < 1 || len(f.Targets) > 2 {
				t.Fatalf("%s hits %v: want one node up to a minority", mode, f.Targets)
			}
			links := 0
			for dst, srcs := range plan.Faults {
				for src, lf := range srcs {
					links++
					if lf.IsZero() || lf.Validate() != nil {
						t.Fatalf("%s: link %s->%s gets %+v", mode, src, dst, lf)
					}
				}
			}
			want := len(f.Targets) * (5 - len(f.Targets))
			if !plan.OneWay {
				want *= 2
			}
			if links != want {
				t.Fatalf("%s on %v (one way %v): %d links, want %d", mode, f.Targets, plan.OneWay, links, want)
			}
			if v := f.eventValue(); v["links"] == nil || v["mode"] != mode {
				t.Fatalf("%s: event value %v lacks the parameters", mode, v)
			}
		}
	}
}

// TestPowerAndLinkOnDockerKeepCorrectRaftd: on correct raftd in Docker,
// a torn power failure of every node loses nothing acknowledged, a kill
// keeps the cache, a link delay inside the containers' forwarders slows
// every write by at least the delay, and all of it is healed.
func TestPowerAndLinkOnDockerKeepCorrectRaftd(t *testing.T) {
	ctx, tc := startDockerFaultCluster(t)
	acked := writeAcked(t, ctx, tc.env, 20)
	p := newTestPlanner(3, []Kind{Power})
	crashAll(t, ctx, tc, powerKind{}.plan(p, PowerAllTorn, currentView(ctx, tc.env)))
	if missing := missingAfter(t, ctx, tc.env, acked); len(missing) > 0 {
		t.Fatalf("all-torn lost acknowledged writes %v of correct raftd", missing)
	}
	requireHealthy(t, ctx, tc.env, 3)

	n := New(tc.env, Options{Kinds: []Kind{Link}, Interval: time.Second, MaxNodes: 3, MaxClockDrift: 0.2})
	nodes := currentView(ctx, tc.env).nodes
	c := dataClient(tc.env)
	defer c.Close()
	healthy := timedWrite(t, ctx, c, "healthy")
	const delay = 150 * time.Millisecond
	delayed := fault{Kind: Link, Mode: LinkDelay, Targets: nodes,
		Params: &linkPlan{Faults: everyLink(nodes, runtime.LinkFault{DelayMs: delay.Milliseconds()})}}
	if _, err := n.start(ctx, delayed); err != nil {
		t.Fatal(err)
	}
	slow := timedWrite(t, ctx, c, "delayed")
	t.Logf("a write took %v on healthy links, %v with every peer link delayed %v", healthy, slow, delay)
	if slow < delay {
		t.Errorf("a write committed in %v, under the %v that every append takes to reach a follower", slow, delay)
	}
	if err := n.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := linkFaultsOf(t, tc.env); got != nil {
		t.Fatalf("links still disturbed after the heal: %v", got)
	}
	requireHealthy(t, ctx, tc.env, 3)
	kinds := requireAllEnded(t, tc.readHistory(t))
	if kinds[string(Power)] != 1 || kinds[string(Link)] != 1 {
		t.Errorf("intervals %v, want one power and one link", kinds)
	}
}
