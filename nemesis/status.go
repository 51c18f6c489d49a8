package nemesis

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/faultline/faultline/sut/client"
)

// statusTimeout bounds one /admin/status call: a paused or partitioned node
// must not hold up the schedule.
const statusTimeout = time.Second

// nodeStatus is one node's answer to /admin/status.
type nodeStatus struct {
	st  client.Status
	err error
}

// syncAdmin gives the admin client the address of every running node, so
// that nodes added by anyone (the nemesis, the campaign) can be asked.
func syncAdmin(env Env) []string {
	nodes := env.Cluster.Nodes()
	slices.Sort(nodes)
	for _, id := range nodes {
		env.Admin.SetAddr(id, env.Cluster.ClientAddr(id))
	}
	return nodes
}

// statuses asks every node in parallel.
func statuses(ctx context.Context, env Env, nodes []string) map[string]nodeStatus {
	out := make(map[string]nodeStatus, len(nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range nodes {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, statusTimeout)
			defer cancel()
			st, err := env.Admin.Status(cctx, id)
			mu.Lock()
			out[id] = nodeStatus{st: st, err: err}
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// leaderOf picks, among the answers, the node that says it is the leader in
// the highest term. Two nodes may both believe they lead (an old leader
// behind a partition); the higher term is the current one.
func leaderOf(sts map[string]nodeStatus) (string, client.Status, bool) {
	var (
		best   string
		bestSt client.Status
		found  bool
	)
	for _, id := range sortedKeys(sts) {
		s := sts[id]
		if s.err != nil || s.st.Role != "leader" {
			continue
		}
		if !found || s.st.Term > bestSt.Term {
			best, bestSt, found = id, s.st, true
		}
	}
	return best, bestSt, found
}

// leaderStatus finds the current leader and returns its status (which
// carries the configuration the cluster is in).
func leaderStatus(ctx context.Context, env Env) (string, client.Status, error) {
	nodes := syncAdmin(env)
	sts := statuses(ctx, env, nodes)
	id, st, ok := leaderOf(sts)
	if !ok {
		return "", client.Status{}, fmt.Errorf("no node of %v says it is the leader", nodes)
	}
	return id, st, nil
}

// currentView is what the schedule sees: the running nodes, and the leader
// and voters when a leader answers. Without a leader the voters are taken to
// be the running nodes.
func currentView(ctx context.Context, env Env) view {
	nodes := syncAdmin(env)
	v := view{nodes: nodes, voters: nodes}
	id, st, ok := leaderOf(statuses(ctx, env, nodes))
	if ok {
		v.leader = id
		v.voters = slices.Sorted(slices.Values(st.Config.Voters))
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
