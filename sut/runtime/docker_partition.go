package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	tcexec "github.com/testcontainers/testcontainers-go/exec"
)

// netfaultPath is the partition helper inside every node image.
const netfaultPath = "/netfault"

// Partition replaces the grudge: each node drops the peer streams that the
// nodes in grudge[node] initiated (netfault drop --from), and only those,
// so one-way partitions stay one-way.
func (c *dockerCluster) Partition(ctx context.Context, g Grudge) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if err := validateGrudge(g, func(id string) bool { _, ok := c.nodes[id]; return ok }); err != nil {
		c.mu.Unlock()
		return err
	}
	c.grudge = copyGrudge(g)
	c.mu.Unlock()
	c.log.Info("partition", "grudge", g)
	return c.applyAll(ctx)
}

func (c *dockerCluster) Heal(ctx context.Context) error {
	return c.Partition(ctx, nil)
}

// applyAll brings every node's rules up to the current grudge, in parallel.
func (c *dockerCluster) applyAll(ctx context.Context) error {
	return c.eachNode(ctx, c.applyRules)
}

// eachNode runs f on every node of the cluster at once, since each call
// is a docker exec of its own, and joins their errors.
func (c *dockerCluster) eachNode(ctx context.Context, f func(context.Context, *dockerNode) error) error {
	c.mu.Lock()
	nodes := make([]*dockerNode, 0, len(c.nodes))
	for _, n := range c.nodes {
		nodes = append(nodes, n)
	}
	c.mu.Unlock()
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- f(ctx, n) }()
	}
	var all error
	for range nodes {
		all = errors.Join(all, <-errs)
	}
	return all
}

// isGrudgeSource reports whether some node drops id's traffic.
func (c *dockerCluster) isGrudgeSource(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, srcs := range c.grudge {
		for _, src := range srcs {
			if src == id {
				return true
			}
		}
	}
	return false
}

// sourceIPs lists the addresses of the nodes that dst drops.
func (c *dockerCluster) sourceIPs(dst string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ips []string
	for _, src := range c.grudge[dst] {
		if n, ok := c.nodes[src]; ok {
			if ip := n.netIP(); ip.IsValid() {
				ips = append(ips, ip.String())
			}
		}
	}
	return ips
}

// applyRules makes node n's nftables table match the grudge. A node that
// is paused or down cannot run the helper; it is marked stale and brought
// up to date when it resumes or restarts.
func (c *dockerCluster) applyRules(ctx context.Context, n *dockerNode) error {
	n.rules.Lock()
	defer n.rules.Unlock()
	ips := c.sourceIPs(n.id)
	n.mu.Lock()
	unreachable := n.paused || n.down || n.ctr == nil
	nothingToDo := len(ips) == 0 && !n.ruled && !n.stale
	if unreachable {
		n.stale = true
	}
	ctr := n.ctr
	n.mu.Unlock()
	if unreachable || nothingToDo {
		return nil
	}
	cmd := []string{netfaultPath, "heal"}
	if len(ips) > 0 {
		cmd = []string{netfaultPath, "drop", "--from", strings.Join(ips, ",")}
	}
	code, out, err := ctr.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil || code != 0 {
		// The node may have died or been frozen behind our back.
		if running, paused, serr := c.containerState(ctx, n); serr == nil && (!running || paused) {
			n.mu.Lock()
			n.stale = true
			n.mu.Unlock()
			return nil
		}
		var msg []byte
		if out != nil {
			msg, _ = io.ReadAll(out)
		}
		return fmt.Errorf("node %s: %s: exit %d: %v %s", n.id, strings.Join(cmd, " "), code, err, strings.TrimSpace(string(msg)))
	}
	n.mu.Lock()
	n.ruled, n.stale = len(ips) > 0, false
	n.mu.Unlock()
	return nil
}
