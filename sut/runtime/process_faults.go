package runtime

import (
	"context"
	"fmt"
	"syscall"

	"github.com/faultline/faultline/sut/system"
)

func (c *processCluster) Kill(ctx context.Context, id string) error {
	n, err := c.lockedNode(id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	c.log.Info("kill", "node", id)
	return n.kill(ctx)
}

// Restart starts a node that is down from its data and waits until it
// serves; a node that is already running is left alone.
func (c *processCluster) Restart(ctx context.Context, id string) error {
	n, err := c.lockedNode(id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if n.running() {
		return nil
	}
	c.log.Info("restart", "node", id)
	return c.spawnAndWait(ctx, n)
}

func (c *processCluster) Stop(ctx context.Context, id string) error {
	n, err := c.lockedNode(id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	c.log.Info("stop", "node", id)
	return n.stop(ctx)
}

func (c *processCluster) Pause(ctx context.Context, id string) error {
	n, err := c.lockedNode(id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if !n.running() {
		return fmt.Errorf("pause node %s: it is not running", id)
	}
	if n.isPaused() {
		return nil
	}
	if err := n.signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause node %s: %w", id, err)
	}
	n.setPaused(true)
	if err := waitStopped(ctx, n.pid()); err != nil {
		return fmt.Errorf("pause node %s: %w", id, err)
	}
	c.log.Info("pause", "node", id)
	return nil
}

func (c *processCluster) Resume(ctx context.Context, id string) error {
	n, err := c.lockedNode(id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	return c.resume(n)
}

func (c *processCluster) resume(n *processNode) error {
	if !n.isPaused() {
		return nil
	}
	if err := n.signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("resume node %s: %w", n.id, err)
	}
	n.setPaused(false)
	c.log.Info("resume", "node", n.id)
	return nil
}

func (c *processCluster) Partition(ctx context.Context, g Grudge) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if err := validateGrudge(g, func(id string) bool { _, ok := c.nodes[id]; return ok }); err != nil {
		return err
	}
	if len(copyGrudge(g)) > 0 && !system.DialsPeersFromListenIP(c.spec.System) {
		return fmt.Errorf("runtime process: %s dials its peers from 127.0.0.1, so its proxies cannot tell senders apart; partition it under --runtime docker", c.spec.System.Name())
	}
	c.grudge = copyGrudge(g)
	for id, n := range c.nodes {
		n.proxy.setBlocked(c.grudge[id])
	}
	c.log.Info("partition", "grudge", c.grudge)
	return nil
}

func (c *processCluster) Heal(ctx context.Context) error {
	return c.Partition(ctx, nil)
}
