package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// These tests run the real raftd under both runtimes: the cluster elects a
// leader, a partition isolating it makes the majority elect another, and a
// write acknowledged through the runtime's addresses is read back.

type raftdStatus struct {
	ID     string `json:"id"`
	Role   string `json:"role"`
	Term   uint64 `json:"term"`
	Leader string `json:"leader"`
}

func raftdStatusOf(addr string) (raftdStatus, error) {
	client := http.Client{Timeout: time.Second}
	resp, err := client.Get("http://" + addr + "/admin/status")
	if err != nil {
		return raftdStatus{}, err
	}
	defer resp.Body.Close()
	var st raftdStatus
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitLeader waits until exactly one of ids reports itself leader in a term
// at least minTerm and every other one of ids follows it.
func waitLeader(t *testing.T, c Cluster, ids []string, minTerm uint64) raftdStatus {
	t.Helper()
	var leader raftdStatus
	eventually(t, fmt.Sprintf("one leader among %v in term >= %d", ids, minTerm), func() (bool, string) {
		var leaders []raftdStatus
		var all []string
		for _, id := range ids {
			st, err := raftdStatusOf(c.ClientAddr(id))
			if err != nil {
				return false, err.Error()
			}
			all = append(all, fmt.Sprintf("%s:%s/t%d/l=%s", id, st.Role, st.Term, st.Leader))
			if st.Role == "leader" && st.Term >= minTerm {
				leaders = append(leaders, st)
			}
		}
		if len(leaders) != 1 {
			return false, strings.Join(all, " ")
		}
		leader = leaders[0]
		for _, id := range ids {
			st, _ := raftdStatusOf(c.ClientAddr(id))
			if st.Leader != leader.ID {
				return false, strings.Join(all, " ")
			}
		}
		return true, ""
	})
	return leader
}

// putThenGet writes key=value on node id and reads it back there.
func putThenGet(t *testing.T, c Cluster, id, key string, value int) {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	body, _ := json.Marshal(map[string]any{"value": value})
	req, _ := http.NewRequest(http.MethodPut, "http://"+c.ClientAddr(id)+"/kv/"+key, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client-Id", "runtime-test")
	req.Header.Set("X-Seq", fmt.Sprint(value)) // one client, a new sequence number per write
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("PUT on %s: %v", id, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT on leader %s: %s", id, resp.Status)
	}
	resp, err = client.Get("http://" + c.ClientAddr(id) + "/kv/" + key)
	if err != nil {
		t.Fatalf("GET on %s: %v", id, err)
	}
	defer resp.Body.Close()
	var got struct {
		Value int `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Value != value {
		t.Fatalf("GET %s on %s = %+v (%v), want %d", key, id, got, err, value)
	}
}

func others(ids []string, not string) []string {
	var out []string
	for _, id := range ids {
		if id != not {
			out = append(out, id)
		}
	}
	return out
}

// exerciseRaftd is the scenario both runtimes must pass.
func exerciseRaftd(t *testing.T, ctx context.Context, c Cluster) {
	ids := c.Nodes()
	first := waitLeader(t, c, ids, 1)
	putThenGet(t, c, first.ID, "k1", 1)

	// Isolate the leader both ways: the majority elects a new one.
	g := Grudge{first.ID: others(ids, first.ID)}
	for _, id := range others(ids, first.ID) {
		g[id] = []string{first.ID}
	}
	if err := c.Partition(ctx, g); err != nil {
		t.Fatal(err)
	}
	second := waitLeader(t, c, others(ids, first.ID), first.Term+1)
	putThenGet(t, c, second.ID, "k2", 2)
	if err := c.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, c, ids, second.Term)

	// Crash a follower and bring it back from its data.
	follower := others(ids, second.ID)[0]
	if err := c.Kill(ctx, follower); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(ctx, follower); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, c, ids, second.Term)
}

func TestRaftdUnderProcessRuntime(t *testing.T) {
	ctx := testContext(t)
	c, err := NewProcess(Options{Log: testLogger(t)}).Start(ctx, Spec{
		Campaign: uniqueCampaign("raftd-proc"), Nodes: []string{"n1", "n2", "n3"},
		System: system.Raftd(system.RaftdOptions{ReadMode: "readindex"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	exerciseRaftd(t, ctx, c)
}

func TestRaftdUnderDockerRuntime(t *testing.T) {
	requireDocker(t)
	ctx := testContext(t)
	rt := NewDocker(Options{Log: testLogger(t)})
	// Build the image first so the measured start is the cluster's alone.
	if _, err := rt.(*dockerRuntime).prepareImage(ctx, system.Raftd(system.RaftdOptions{})); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	c, err := rt.Start(ctx, Spec{
		Campaign: uniqueCampaign("raftd-dock"), Nodes: []string{"n1", "n2", "n3", "n4", "n5"},
		System: system.Raftd(system.RaftdOptions{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("5 raftd containers serving %v after Start (image already built)", time.Since(began).Round(time.Millisecond))
	defer c.Close(context.Background())
	exerciseRaftd(t, ctx, c)
}
