package main

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// localCluster is a cluster of raftd processes on 127.0.0.x, started by
// sut/runtime's process runtime (peers reach each other through its
// per-node proxy, clients reach the nodes directly). Only the tests use it:
// benchmarks are `checker bench`'s, so raftd itself does not link the
// runtime for them.
type localCluster struct {
	runtime.Cluster
	procs runtime.Processes
}

// startLocalCluster starts nodes n1..nN of raftd with opts, data and logs
// under dir.
func startLocalCluster(ctx context.Context, dir string, nodes int, opts system.RaftdOptions) (*localCluster, error) {
	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
	}
	rt := runtime.NewProcess(runtime.Options{WorkDir: dir})
	c, err := rt.Start(ctx, runtime.Spec{Campaign: "raftd-local", Nodes: ids, System: system.Raftd(opts), LogDir: dir})
	if err != nil {
		return nil, err
	}
	procs, ok := c.(runtime.Processes)
	if !ok {
		c.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("the process runtime's cluster does not tell its processes")
	}
	return &localCluster{Cluster: c, procs: procs}, nil
}

// addrs maps every node to its client address.
func (c *localCluster) addrs() map[string]string {
	out := map[string]string{}
	for _, id := range c.Nodes() {
		out[id] = c.ClientAddr(id)
	}
	return out
}

// waitLeader waits until one of among reports itself leader with its own
// term's entries applied, and returns its id.
func waitLeader(ctx context.Context, cl *client.Client, among []string) (string, error) {
	for {
		for _, id := range among {
			st, err := cl.Status(ctx, id)
			if err == nil && st.Role == "leader" && st.Commit > 0 && st.Applied >= st.Commit {
				return id, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no leader among %v: %w", among, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
