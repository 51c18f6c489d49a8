package runtime

import (
	"context"
	"fmt"
	"os"

	"github.com/faultline/faultline/sut/system"
)

// AddNode starts a fresh node in join mode. Its --peers lists every live
// node and itself, so that it can find the cluster it is joining.
func (c *processCluster) AddNode(ctx context.Context, id string) error {
	if err := validateNodeID(id); err != nil {
		return err
	}
	n, err := c.prepareNode(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	peers := map[string]string{}
	for pid, p := range c.nodes {
		peers[pid] = p.proxy.Addr()
	}
	c.mu.Unlock()
	n.nodeArgs = system.NodeArgs{ID: id, Listen: n.clientAddr(), PeerListen: n.peerListen(), Peers: peers, Data: n.data, Join: true, Cluster: c.spec.Campaign}
	c.log.Info("add node", "node", id)
	if err := c.startNode(ctx, n); err != nil {
		_ = c.RemoveNode(context.WithoutCancel(ctx), id)
		return err
	}
	return nil
}

var _ Reserver = (*processCluster)(nil)

// ReserveNode prepares the node (its loopback IP, ports, data directory and
// peer proxy) without starting it, and returns its proxy's address.
func (c *processCluster) ReserveNode(_ context.Context, id string) (string, error) {
	if err := validateNodeID(id); err != nil {
		return "", err
	}
	n, err := c.prepareNode(id)
	if err != nil {
		return "", err
	}
	return n.proxy.Addr(), nil
}

// StartReserved starts a node ReserveNode prepared, in join mode, with the
// given peers.
func (c *processCluster) StartReserved(ctx context.Context, id string, peers map[string]string) error {
	if _, ok := peers[id]; !ok {
		return fmt.Errorf("start reserved node %s: its peers %v do not list it", id, peers)
	}
	n, err := c.node(id)
	if err != nil {
		return err
	}
	n.nodeArgs = system.NodeArgs{ID: id, Listen: n.clientAddr(), PeerListen: n.peerListen(), Peers: peers, Data: n.data, Join: true, Cluster: c.spec.Campaign}
	c.log.Info("start reserved node", "node", id)
	if err := c.startNode(ctx, n); err != nil {
		_ = c.RemoveNode(context.WithoutCancel(ctx), id)
		return err
	}
	return nil
}

// Unreserve removes the prepared node: its proxy, directories and id.
func (c *processCluster) Unreserve(ctx context.Context, id string) error {
	return c.RemoveNode(ctx, id)
}

func (c *processCluster) RemoveNode(ctx context.Context, id string) error {
	n, err := c.lockedNode(id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if err := n.kill(ctx); err != nil {
		return err
	}
	n.proxy.close()
	if err := n.unmountPowerDisk(); err != nil {
		return fmt.Errorf("remove node %s: %w", id, err)
	}
	c.mu.Lock()
	delete(c.nodes, id)
	c.order = removeString(c.order, id)
	c.mu.Unlock()
	c.log.Info("remove node", "node", id)
	if err := os.RemoveAll(n.dir); err != nil {
		return fmt.Errorf("remove node %s: delete data: %w", id, err)
	}
	return nil
}
