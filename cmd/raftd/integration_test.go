package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/server"
	"github.com/faultline/faultline/sut/system"
)

// These tests run real raftd processes on 127.0.0.1 (fsync on), built once.

var raftdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "raftd-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	raftdBin = filepath.Join(dir, "raftd")
	if out, err := exec.Command("go", "build", "-o", raftdBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build raftd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testNodeFlags shorten the tick so elections take a few hundred
// milliseconds instead of a second.
var testNodeFlags = []string{"--tick", "25ms"}

// testCluster is a local raftd cluster (sut/runtime's process runtime) and
// the test it belongs to.
type testCluster struct {
	*localCluster
	t    *testing.T
	http *http.Client
}

// startTestCluster starts n nodes of the raftd built by TestMain; opts adds
// to testNodeFlags.
func startTestCluster(t *testing.T, n int, opts system.RaftdOptions) *testCluster {
	t.Helper()
	opts.Binary = raftdBin
	opts.Extra = append(slices.Clone(testNodeFlags), opts.Extra...)
	c, err := startLocalCluster(ctxFor(t, time.Minute), t.TempDir(), n, opts)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{localCluster: c, t: t, http: &http.Client{Timeout: 2 * time.Second}}
	t.Cleanup(func() {
		if t.Failed() {
			for _, id := range c.Nodes() {
				t.Logf("--- log of %s (tail):\n%s", id, tail(tc.log(id), 25))
			}
		}
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("closing the cluster: %v", err)
		}
	})
	return tc
}

// log is node id's log so far.
func (c *testCluster) log(id string) string {
	r, err := c.Logs(context.Background(), id)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

func tail(text string, lines int) string {
	all := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// status fetches node id's whole /admin/status (the snapshot index
// included, which the client's Status leaves out).
func (c *testCluster) status(id string) (server.StatusBody, error) {
	var st server.StatusBody
	resp, err := c.http.Get("http://" + c.ClientAddr(id) + "/admin/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status of %s: HTTP %d", id, resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (c *testCluster) kill(id string) error  { return c.Kill(ctxFor(c.t, 30*time.Second), id) }
func (c *testCluster) start(id string) error { return c.Restart(ctxFor(c.t, time.Minute), id) }
func (c *testCluster) stop(id string) error  { return c.Stop(ctxFor(c.t, 30*time.Second), id) }

// addJoiner starts a new empty node with --join and returns the address its
// peers reach it at.
func (c *testCluster) addJoiner(id string) (string, error) {
	if err := c.AddNode(ctxFor(c.t, time.Minute), id); err != nil {
		return "", err
	}
	return c.PeerAddr(id), nil
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func waitLeaderOf(t *testing.T, c *testCluster, among ...string) string {
	t.Helper()
	if len(among) == 0 {
		among = c.Nodes()
	}
	cl := newClient(c)
	defer cl.Close()
	// Generous: this is a liveness check on a shared, loaded machine, not a
	// timing assertion.
	id, err := waitLeader(ctxFor(t, 20*time.Second), cl, among)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newClient(c *testCluster) *client.Client {
	return client.New(c.addrs(), client.Options{Timeout: 3 * time.Second})
}

// eventually polls cond until it holds or 20 seconds pass.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after 20s: %v", what, err)
}

func others(c *testCluster, not ...string) []string {
	var out []string
	for _, id := range c.Nodes() {
		if !slices.Contains(not, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func TestRedirectKillLeaderAndRestart(t *testing.T) {
	c := startTestCluster(t, 3, system.RaftdOptions{WithoutFaultInjection: true})
	leader := waitLeaderOf(t, c)
	follower := others(c, leader)[0]
	eventually(t, "follower learns the leader", func() error {
		st, err := c.status(follower)
		if err == nil && st.Leader != leader {
			err = fmt.Errorf("follower %s reports leader %q", follower, st.Leader)
		}
		return err
	})

	// A write sent to a follower is redirected to the leader, by id.
	req, _ := http.NewRequest("PUT", "http://"+c.addrs()[follower]+"/kv/r", strings.NewReader(`{"value":"v"}`))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	// The leader named is the one the follower knows (normally the one
	// found above; a busy machine may have moved leadership meanwhile).
	named := resp.Header.Get("X-Leader-Id")
	// raftd redirects to the leader's address in its --peers, which under
	// the process runtime is the leader's proxy (it forwards clients too).
	wantLoc := "http://" + c.PeerAddr(named) + "/kv/r"
	if resp.StatusCode != 307 || named == "" || named == follower || resp.Header.Get("Location") != wantLoc || body["leader"] != named {
		t.Fatalf("PUT at follower %s: %d Location=%q X-Leader-Id=%q body=%v; want 307 to the leader's address", follower,
			resp.StatusCode, resp.Header.Get("Location"), named, body)
	}

	// Without --fault-injection there is no fault endpoint.
	if resp, err := http.Post("http://"+c.addrs()[follower]+"/fault/clock", "application/json", strings.NewReader(`{"rate":2}`)); err != nil || resp.StatusCode != 404 {
		t.Fatalf("POST /fault/clock without --fault-injection: %v %v, want 404", resp.Status, err)
	}

	cl := newClient(c)
	defer cl.Close()
	cl.Prefer(follower)
	node, err := cl.Put(ctxFor(t, 10*time.Second), "r", "v")
	if err != nil || node == follower {
		t.Fatalf("client PUT through follower %s: node %q err %v, want it applied by the leader", follower, node, err)
	}
	leader = node
	eventually(t, "the follower applies the redirected write", func() error {
		v, found, _, err := cl.Get(context.Background(), "r", true)
		if err == nil && (!found || v != "v") {
			err = fmt.Errorf("local read at %s: %v %v", follower, v, found)
		}
		return err
	})
	cl.Prefer("")

	// Acknowledged writes.
	var acked []string
	for i := 0; i < 40; i++ {
		elem := fmt.Sprintf("e%d", i)
		if _, _, err := cl.Append(ctxFor(t, 10*time.Second), "list", elem); err != nil {
			t.Fatalf("append %s: %v", elem, err)
		}
		acked = append(acked, elem)
	}

	// kill -9 the leader: a new leader serves, and nothing acknowledged is lost.
	if err := c.kill(leader); err != nil {
		t.Fatal(err)
	}
	cl.RemoveAddr(leader)
	fresh := waitLeaderOf(t, c, others(c, leader)...)
	if fresh == leader {
		t.Fatal("the killed node is still reported leader")
	}
	list, _, err := cl.Append(ctxFor(t, 10*time.Second), "list", "after")
	if err != nil {
		t.Fatalf("append after the leader's death: %v", err)
	}
	want := append(slices.Clone(acked), "after")
	if got := fmt.Sprint(list); got != fmt.Sprint(want) {
		t.Fatalf("list after failover = %s, want %s", got, fmt.Sprint(want))
	}

	// The killed node restarts from its disk and catches up.
	if err := c.start(leader); err != nil {
		t.Fatal(err)
	}
	cl.SetAddr(leader, c.addrs()[leader])
	eventually(t, "the restarted node catches up", func() error {
		st, err := c.status(leader)
		if err != nil {
			return err
		}
		lst, err := c.status(fresh)
		if err != nil {
			return err
		}
		if st.Applied < lst.Commit {
			return fmt.Errorf("restarted %s applied %d < leader commit %d", leader, st.Applied, lst.Commit)
		}
		return nil
	})
	cl.Prefer(leader)
	v, _, node, err := cl.Get(context.Background(), "list", true)
	if err != nil || node != leader || fmt.Sprint(v) != fmt.Sprint(want) {
		t.Fatalf("local read at the restarted node %s: %v (from %s, err %v), want %v", leader, v, node, err, want)
	}

	// SIGTERM: a clean exit that closes the WAL; the node restarts from it.
	if err := c.stop(leader); err != nil {
		t.Fatal(err)
	}
	if exited, code, err := c.procs.Exited(leader); err != nil || !exited || code != 0 {
		t.Fatalf("after SIGTERM: exited %v, exit code %d (%v), want exited with 0", exited, code, err)
	}
	if logText := c.log(leader); !strings.Contains(logText, "msg=stopped") {
		t.Fatalf("no graceful stop in the log:\n%s", tail(logText, 10))
	}
	if err := c.start(leader); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the node restarted after SIGTERM serves its data", func() error {
		v, _, node, err := cl.Get(context.Background(), "list", true)
		if err == nil && (node != leader || fmt.Sprint(v) != fmt.Sprint(want)) {
			err = fmt.Errorf("local read at %s: %v", node, v)
		}
		return err
	})
}

func TestMembershipJoinThenRemoveLeader(t *testing.T) {
	c := startTestCluster(t, 3, system.RaftdOptions{WithoutFaultInjection: true})
	leader := waitLeaderOf(t, c)
	cl := newClient(c)
	defer cl.Close()
	for i := 0; i < 10; i++ {
		if _, err := cl.Put(ctxFor(t, 10*time.Second), fmt.Sprintf("k%d", i), i); err != nil {
			t.Fatal(err)
		}
	}

	peerAddr, err := c.addJoiner("n4")
	if err != nil {
		t.Fatal(err)
	}
	cl.SetAddr("n4", c.ClientAddr("n4"))
	if err := cl.AddMember(ctxFor(t, 30*time.Second), "n4", peerAddr); err != nil {
		t.Fatalf("add n4: %v", err)
	}
	st, err := c.status(leader)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(st.Config.Voters, "n4") || st.Config.Joint || len(st.Config.Voters) != 4 {
		t.Fatalf("after adding n4 the leader's config is %+v, want 4 voters including n4, not joint", st.Config)
	}
	eventually(t, "n4 holds the data", func() error {
		cl.Prefer("n4")
		defer cl.Prefer("")
		v, found, node, err := cl.Get(context.Background(), "k9", true)
		if err == nil && (node != "n4" || !found || fmt.Sprint(v) != "9") {
			err = fmt.Errorf("local read of k9 at %s: %v %v", node, v, found)
		}
		return err
	})

	// Remove the leader itself: it hands over and the cluster keeps serving.
	if err := cl.RemoveMember(ctxFor(t, 30*time.Second), leader); err != nil {
		t.Fatalf("remove leader %s: %v", leader, err)
	}
	cl.RemoveAddr(leader)
	rest := others(c, leader)
	fresh := waitLeaderOf(t, c, rest...)
	if _, err := cl.Put(ctxFor(t, 10*time.Second), "after-removal", "ok"); err != nil {
		t.Fatalf("write after removing the leader: %v", err)
	}
	st, err = c.status(fresh)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(st.Config.Voters)
	if fmt.Sprint(st.Config.Voters) != fmt.Sprint(rest) || st.Config.Joint {
		t.Fatalf("config after removing %s = %+v, want voters %v", leader, st.Config, rest)
	}
	v, found, _, err := cl.Get(ctxFor(t, 10*time.Second), "k3", false)
	if err != nil || !found || fmt.Sprint(v) != "3" {
		t.Fatalf("linearizable read after the changes: %v %v %v", v, found, err)
	}
}

func TestRestartedNodeCatchesUpBySnapshot(t *testing.T) {
	c := startTestCluster(t, 3, system.RaftdOptions{SnapshotEvery: 20})
	leader := waitLeaderOf(t, c)
	lagging := others(c, leader)[0]
	before, err := c.status(lagging)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.kill(lagging); err != nil {
		t.Fatal(err)
	}
	cl := newClient(c)
	defer cl.Close()
	cl.RemoveAddr(lagging)
	for i := 0; i < 100; i++ {
		if _, err := cl.Put(ctxFor(t, 10*time.Second), fmt.Sprintf("k%d", i%30), i); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the leader compacts past the lagging node", func() error {
		st, err := c.status(leader)
		if err == nil && st.SnapshotIndex <= before.LastIndex+1 {
			err = fmt.Errorf("leader snapshot index %d, lagging node's last index %d", st.SnapshotIndex, before.LastIndex)
		}
		return err
	})
	if err := c.start(lagging); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the restarted node catches up", func() error {
		st, err := c.status(lagging)
		if err != nil {
			return err
		}
		lst, err := c.status(leader)
		if err != nil {
			return err
		}
		if st.Applied < lst.Commit || st.SnapshotIndex <= before.LastIndex {
			return fmt.Errorf("%s applied %d (leader commit %d), snapshot index %d", lagging, st.Applied, lst.Commit, st.SnapshotIndex)
		}
		return nil
	})
	if logText := c.log(lagging); !strings.Contains(logText, "snapshot installed") {
		t.Fatalf("%s caught up without installing a snapshot; log:\n%s", lagging, tail(logText, 20))
	}
	cl.SetAddr(lagging, c.addrs()[lagging])
	// The clock fault endpoint, over the wire.
	if err := cl.SetClock(ctxFor(t, 5*time.Second), lagging, 150, 1.25); err != nil {
		t.Fatalf("SetClock: %v", err)
	}
	if st, err := c.status(lagging); err != nil || st.Clock.OffsetMs != 150 || st.Clock.Rate != 1.25 {
		t.Fatalf("status clock after SetClock = %+v (err %v), want offset 150 rate 1.25", st.Clock, err)
	}
	cl.Prefer(lagging)
	for i := 70; i < 100; i++ {
		key := fmt.Sprintf("k%d", i%30)
		v, found, _, err := cl.Get(context.Background(), key, true)
		if err != nil || !found || fmt.Sprint(v) != fmt.Sprint(i) {
			t.Fatalf("local read of %s at %s: %v %v %v, want %d", key, lagging, v, found, err, i)
		}
	}
}
