package runtime

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// dockerStopTimeout is how long Stop lets a node handle SIGTERM before the
// engine kills it.
const dockerStopTimeout = 10 * time.Second

// dockerNode is one node of the docker runtime: one container.
type dockerNode struct {
	id   string
	name string // container name, "<campaign>-<id>"

	// ops serializes lifecycle operations on the node; rules serializes
	// changes to its partition rules; mu guards the fields below and is
	// never held while calling the engine.
	ops   sync.Mutex
	rules sync.Mutex
	mu    sync.Mutex
	ctr   *testcontainers.DockerContainer
	// clientAddr is 127.0.0.1:<published port>; it may change on restart.
	clientAddr string
	ip         netip.Addr // address on the campaign network, last seen
	paused     bool
	down       bool // killed or stopped by us
	// ruled says our nftables table may exist in the node; stale says the
	// node's rules could not be brought up to date (it was paused or down)
	// and must be when it resumes or restarts.
	ruled bool
	stale bool
	// linksStale says the node's link forwarder missed a change of the
	// link faults (it was paused or down).
	linksStale bool
}

func (n *dockerNode) setContainer(ctr *testcontainers.DockerContainer) {
	n.mu.Lock()
	n.ctr = ctr
	n.mu.Unlock()
}

func (n *dockerNode) container() *testcontainers.DockerContainer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ctr
}

func (n *dockerNode) addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.clientAddr
}

func (n *dockerNode) netIP() netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ip
}

// containerState is the engine's view of a node.
// lockedNode looks up id, takes its operation lock (so that no other
// kill, stop, restart, pause, power failure or data-directory access runs on
// the node meanwhile) and reads its container's state. On success the
// caller holds n.ops and must unlock it.
func (c *dockerCluster) lockedNode(ctx context.Context, id string) (n *dockerNode, running, paused bool, err error) {
	if n, err = c.node(id); err != nil {
		return nil, false, false, err
	}
	n.ops.Lock()
	if running, paused, err = c.containerState(ctx, n); err != nil {
		n.ops.Unlock()
		return nil, false, false, err
	}
	return n, running, paused, nil
}

func (c *dockerCluster) containerState(ctx context.Context, n *dockerNode) (running, paused bool, err error) {
	res, err := c.cli.ContainerInspect(ctx, n.name, client.ContainerInspectOptions{})
	if err != nil {
		return false, false, fmt.Errorf("node %s: inspect: %w", n.id, err)
	}
	st := res.Container.State
	if st == nil {
		return false, false, nil
	}
	return st.Running, st.Paused, nil
}

// waitDown waits until the engine reports the container not running.
func (c *dockerCluster) waitDown(ctx context.Context, n *dockerNode) error {
	for {
		running, _, err := c.containerState(ctx, n)
		if err != nil {
			return err
		}
		if !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s: waiting for the container to stop: %w", n.id, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *dockerCluster) markDown(n *dockerNode) {
	n.mu.Lock()
	n.down, n.paused = true, false
	// A new start gets a fresh network namespace with no rules of ours in
	// it, and Restart installs the grudge's rules there in any case.
	n.ruled, n.stale = false, false
	n.mu.Unlock()
}

func (c *dockerCluster) Kill(ctx context.Context, id string) error {
	n, running, paused, err := c.lockedNode(ctx, id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if !running {
		c.markDown(n)
		return nil
	}
	c.log.Info("kill", "node", id)
	if c.spec.PowerLoss {
		// The page cache lives in the node's faultinit: killing the
		// container would drop it, which is a power failure, not a kill.
		if paused {
			if _, err := c.cli.ContainerUnpause(ctx, n.name, client.ContainerUnpauseOptions{}); err != nil {
				return fmt.Errorf("kill paused node %s: unpause: %w", id, err)
			}
		}
		if err := c.crash(ctx, n); err != nil {
			return err
		}
	} else if _, err := c.cli.ContainerKill(ctx, n.name, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		if !paused {
			return fmt.Errorf("kill node %s: %w", id, err)
		}
		// An engine that refuses to kill a frozen container: thaw it first.
		if _, err := c.cli.ContainerUnpause(ctx, n.name, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("kill paused node %s: unpause: %w", id, err)
		}
		if _, err := c.cli.ContainerKill(ctx, n.name, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
			return fmt.Errorf("kill node %s: %w", id, err)
		}
	}
	if err := c.waitDown(ctx, n); err != nil {
		return err
	}
	c.markDown(n)
	return nil
}

func (c *dockerCluster) Stop(ctx context.Context, id string) error {
	n, running, paused, err := c.lockedNode(ctx, id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if !running {
		c.markDown(n)
		return nil
	}
	c.log.Info("stop", "node", id)
	if paused {
		// A frozen process cannot handle SIGTERM.
		if _, err := c.cli.ContainerUnpause(ctx, n.name, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("stop paused node %s: unpause: %w", id, err)
		}
	}
	timeout := int(dockerStopTimeout / time.Second)
	if _, err := c.cli.ContainerStop(ctx, n.name, client.ContainerStopOptions{Timeout: &timeout}); err != nil {
		return fmt.Errorf("stop node %s: %w", id, err)
	}
	if err := c.waitDown(ctx, n); err != nil {
		return err
	}
	c.markDown(n)
	return nil
}

// Restart starts the node's container again (same filesystem, so the same
// data), re-reads its published port and IP, waits until it serves and
// restores its partition rules. A running node is left alone.
func (c *dockerCluster) Restart(ctx context.Context, id string) error {
	n, running, _, err := c.lockedNode(ctx, id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if running {
		return nil
	}
	c.log.Info("restart", "node", id)
	oldIP := n.netIP()
	if _, err := c.cli.ContainerStart(ctx, n.name, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("restart node %s: %w", id, err)
	}
	if err := c.refresh(ctx, n); err != nil {
		return err
	}
	n.mu.Lock()
	n.down = false
	n.mu.Unlock()
	// Rules go in before the node serves, so that it never talks across
	// a partition that was in force while it was down.
	moved := n.netIP() != oldIP
	if moved {
		// Other nodes' rules name the old address.
		c.log.Info("node address changed", "node", id, "old", oldIP, "new", n.netIP())
		err = c.applyAll(ctx)
	} else {
		err = c.applyRules(ctx, n)
	}
	if err != nil {
		return err
	}
	// Its faultinit started afresh, with healthy links.
	c.mu.Lock()
	disturbed := len(c.links) > 0
	c.mu.Unlock()
	n.mu.Lock()
	n.linksStale = disturbed
	n.mu.Unlock()
	if err := c.refreshLinks(ctx, n, moved); err != nil {
		return err
	}
	return c.awaitServing(ctx, n)
}

func (c *dockerCluster) Pause(ctx context.Context, id string) error {
	n, running, paused, err := c.lockedNode(ctx, id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if !running {
		return fmt.Errorf("pause node %s: it is not running", id)
	}
	if paused {
		return nil
	}
	c.log.Info("pause", "node", id)
	n.rules.Lock() // no rule change halfway through a freeze
	defer n.rules.Unlock()
	if _, err := c.cli.ContainerPause(ctx, n.name, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("pause node %s: %w", id, err)
	}
	n.mu.Lock()
	n.paused = true
	n.mu.Unlock()
	return nil
}

func (c *dockerCluster) Resume(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	n.ops.Lock()
	defer n.ops.Unlock()
	return c.resume(ctx, n)
}

func (c *dockerCluster) resume(ctx context.Context, n *dockerNode) error {
	_, paused, err := c.containerState(ctx, n)
	if err != nil {
		return err
	}
	if paused {
		c.log.Info("resume", "node", n.id)
		if _, err := c.cli.ContainerUnpause(ctx, n.name, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("resume node %s: %w", n.id, err)
		}
	}
	n.mu.Lock()
	n.paused = false
	stale := n.stale
	n.mu.Unlock()
	if stale {
		if err := c.applyRules(ctx, n); err != nil {
			return err
		}
	}
	return c.refreshLinks(ctx, n, false)
}

// Logs streams the node's container log (stdout and stderr, demultiplexed);
// for a removed node, the log kept at removal; after Close, the collected
// copy in Spec.LogDir.
func (c *dockerCluster) Logs(ctx context.Context, id string) (io.ReadCloser, error) {
	c.mu.Lock()
	n, live := c.nodes[id]
	removed, wasRemoved := c.removedLogs[id]
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return openCollectedLog(c.spec.LogDir, id)
	case live && n.container() != nil:
		rc, err := n.container().Logs(ctx)
		if err != nil {
			return nil, fmt.Errorf("logs of node %s: %w", id, err)
		}
		if wasRemoved {
			return readCloser{io.MultiReader(strings.NewReader(string(removed)), rc), rc}, nil
		}
		return rc, nil
	case wasRemoved:
		return io.NopCloser(strings.NewReader(string(removed))), nil
	default:
		return nil, fmt.Errorf("logs of node %q: %w", id, ErrUnknownNode)
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// lastBytes reads r to the end and keeps its last max bytes.
func lastBytes(r io.Reader, max int) []byte {
	b, _ := io.ReadAll(r)
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return b
}
