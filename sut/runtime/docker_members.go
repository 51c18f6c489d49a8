package runtime

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/moby/client"
)

// AddNode starts a fresh container in join mode. Its --peers lists every
// live node and itself. A container left by an earlier node of that id is
// removed first, so the new one starts empty.
func (c *dockerCluster) AddNode(ctx context.Context, id string) error {
	if err := validateNodeID(id); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if _, exists := c.nodes[id]; exists {
		c.mu.Unlock()
		return fmt.Errorf("add node %s: it already exists", id)
	}
	peers := map[string]string{id: c.peerAddr(id)}
	for pid := range c.nodes {
		peers[pid] = c.peerAddr(pid)
	}
	c.mu.Unlock()
	c.log.Info("add node", "node", id)
	if err := c.createNode(ctx, id, peers, true); err != nil {
		_ = c.RemoveNode(context.WithoutCancel(ctx), id)
		return err
	}
	return nil
}

var _ Reserver = (*dockerCluster)(nil)

// ReserveNode: a container's peer address is its network alias and the
// peer port, fixed by its id, so there is nothing to hold: it checks that
// the id is free and names the address.
func (c *dockerCluster) ReserveNode(_ context.Context, id string) (string, error) {
	if err := validateNodeID(id); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "", ErrClosed
	}
	if _, exists := c.nodes[id]; exists {
		return "", fmt.Errorf("reserve node %s: it already exists", id)
	}
	return c.peerAddr(id), nil
}

// StartReserved creates the node's container in join mode with the given
// peers (AddNode's peers are the live nodes; a system that added the member
// first names its own member list).
func (c *dockerCluster) StartReserved(ctx context.Context, id string, peers map[string]string) error {
	if _, ok := peers[id]; !ok {
		return fmt.Errorf("start reserved node %s: its peers %v do not list it", id, peers)
	}
	c.log.Info("start reserved node", "node", id)
	if err := c.createNode(ctx, id, peers, true); err != nil {
		_ = c.RemoveNode(context.WithoutCancel(ctx), id)
		return err
	}
	return nil
}

// Unreserve has nothing to drop: ReserveNode held nothing.
func (c *dockerCluster) Unreserve(context.Context, string) error { return nil }

// RemoveNode keeps the node's log, removes its container (and with it its
// data) and drops it from the grudge: its address may be given to a later
// container, which must not inherit its partition.
func (c *dockerCluster) RemoveNode(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	n.ops.Lock()
	defer n.ops.Unlock()
	c.log.Info("remove node", "node", id)
	logs := c.captureLog(ctx, n)
	if _, err := c.cli.ContainerRemove(ctx, n.name, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove node %s: %w", id, err)
	}
	c.mu.Lock()
	c.removedLogs[id] = append(c.removedLogs[id], logs...)
	delete(c.nodes, id)
	c.order = removeString(c.order, id)
	mentioned := false
	next := Grudge{}
	for dst, srcs := range c.grudge {
		if dst == id {
			mentioned = true
			continue
		}
		kept := removeString(append([]string(nil), srcs...), id)
		mentioned = mentioned || len(kept) != len(srcs)
		if len(kept) > 0 {
			next[dst] = kept
		}
	}
	c.grudge = next
	c.mu.Unlock()
	if mentioned {
		return c.applyAll(ctx)
	}
	return nil
}

// captureLog reads a node's whole container log (empty if there is none).
func (c *dockerCluster) captureLog(ctx context.Context, n *dockerNode) []byte {
	ctr := n.container()
	if ctr == nil {
		return nil
	}
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return []byte(fmt.Sprintf("# faultline: could not read the log of %s: %v\n", n.id, err))
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}
