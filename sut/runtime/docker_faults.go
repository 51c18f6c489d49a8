package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/moby/moby/client"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/faultline/faultline/sut/runtime/linkpump"
	"github.com/faultline/faultline/sut/runtime/powerfs"
)

// Faults below the system in the docker runtime: cmd/faultinit is the
// first process of every node when the campaign plays power or link
// faults. It mounts powerfs on /data over /durable (power) and stands a
// linkpump.Forwarder on forwardPort in front of the node's peer port
// (link); the runtime reaches it with docker exec.
const (
	initPath    = "/faultinit"
	dataPath    = "/data"
	durablePath = "/durable"
	// forwardPort is where peers dial a node when the campaign plays link
	// faults: the forwarder, which dials the node on 127.0.0.1.
	forwardPort = 7947
)

// ErrNoLinkFaults is returned by SetLinkFaults on a docker cluster started
// without Spec.LinkFaults.
var ErrNoLinkFaults = errors.New("the cluster was started without link forwarders (Spec.LinkFaults)")

func (c *dockerCluster) usesInit() bool { return c.spec.PowerLoss || c.spec.LinkFaults }

// imageEntrypoint is the command the image runs its node with.
func imageEntrypoint(ctx context.Context, cli *client.Client, image string) ([]string, error) {
	res, err := cli.ImageInspect(ctx, image)
	if err != nil {
		return nil, fmt.Errorf("inspect image %s: %w", image, err)
	}
	if res.Config == nil || len(res.Config.Entrypoint) == 0 {
		return nil, fmt.Errorf("image %s has no entrypoint: faultinit (power and link faults) needs to know how the node starts", image)
	}
	return res.Config.Entrypoint, nil
}

// initCommand is the container's entrypoint: the image's own, or faultinit
// running it.
func (c *dockerCluster) initCommand() []string {
	if !c.usesInit() {
		return nil
	}
	cmd := []string{initPath, "run"}
	if c.spec.PowerLoss {
		cmd = append(cmd, "--disk", dataPath, "--durable", durablePath)
	}
	if c.spec.LinkFaults {
		cmd = append(cmd, "--forward", "0.0.0.0:"+strconv.Itoa(forwardPort)+"=127.0.0.1:"+strconv.Itoa(c.peerPort()))
	}
	return append(append(cmd, "--"), c.entry...)
}

// initResponse is faultinit's answer (cmd/faultinit Response).
type initResponse struct {
	Error string             `json:"error,omitempty"`
	Lost  []powerfs.FileLoss `json:"lost,omitempty"`
}

// askInit runs faultinit's client in the node and decodes its answer.
func (c *dockerCluster) askInit(ctx context.Context, n *dockerNode, args ...string) (initResponse, error) {
	ctr := n.container()
	if ctr == nil {
		return initResponse{}, fmt.Errorf("node %s: no container", n.id)
	}
	cmd := append([]string{initPath}, args...)
	code, out, err := ctr.Exec(ctx, cmd, tcexec.Multiplexed())
	var text []byte
	if out != nil {
		text, _ = io.ReadAll(out)
	}
	if err != nil || code != 0 {
		return initResponse{}, fmt.Errorf("node %s: faultinit %s: exit %d: %v %s", n.id, args[0], code, err, bytes.TrimSpace(text))
	}
	var resp initResponse
	if err := json.Unmarshal(bytes.TrimSpace(text), &resp); err != nil {
		return initResponse{}, fmt.Errorf("node %s: faultinit %s: answer %q: %w", n.id, args[0], text, err)
	}
	return resp, nil
}

// PowerFail asks the node's faultinit to kill the node and drop what its
// powerfs had not made durable; the container then ends (and its mount
// with it). Restart starts it on /durable.
func (c *dockerCluster) PowerFail(ctx context.Context, id string, loss powerfs.Loss, seed uint64) ([]powerfs.FileLoss, error) {
	if !c.spec.PowerLoss {
		return nil, fmt.Errorf("power-fail node %s: %w", id, ErrNoPowerLoss)
	}
	n, running, paused, err := c.lockedNode(ctx, id)
	if err != nil {
		return nil, err
	}
	defer n.ops.Unlock()
	if !running {
		// Already down: whatever ended it synced or dropped the cache.
		c.markDown(n)
		return nil, nil
	}
	if paused {
		if _, err := c.cli.ContainerUnpause(ctx, n.name, client.ContainerUnpauseOptions{}); err != nil {
			return nil, fmt.Errorf("power-fail paused node %s: unpause: %w", id, err)
		}
	}
	resp, askErr := c.askInit(ctx, n, "power-fail", "--loss", string(loss),
		"--seed", strconv.FormatUint(seed, 10), "--stream", strconv.Itoa(len(id)))
	if askErr != nil {
		// The container may have ended before the answer was out; the
		// power is cut all the same once it is down.
		if running, _, serr := c.containerState(ctx, n); serr != nil || running {
			return nil, fmt.Errorf("power-fail node %s: %w", id, askErr)
		}
		c.log.Warn("power failure: the losses were not reported", "node", id, "err", askErr)
	}
	if err := c.waitDown(ctx, n); err != nil {
		return resp.Lost, err
	}
	c.markDown(n)
	c.log.Info("power failure", "node", id, "loss", loss, "files", len(resp.Lost))
	if resp.Error != "" {
		return resp.Lost, fmt.Errorf("power-fail node %s: %s", id, resp.Error)
	}
	return resp.Lost, nil
}

// crash kills a node whose cache lives in its faultinit: the cache is
// synced first (a kill keeps the page cache, which the kernel writes back),
// then the container ends. If faultinit cannot be asked, the engine kills
// the container, and the cache is lost as in a power failure.
func (c *dockerCluster) crash(ctx context.Context, n *dockerNode) error {
	if _, err := c.askInit(ctx, n, "crash"); err != nil {
		c.log.Warn("crash through faultinit failed: killing the container (its unsynced writes are lost)", "node", n.id, "err", err)
		if _, err := c.cli.ContainerKill(ctx, n.name, client.ContainerKillOptions{Signal: "KILL"}); err != nil && !isNotFound(err) {
			if running, _, serr := c.containerState(ctx, n); serr != nil || running {
				return fmt.Errorf("kill node %s: %w", n.id, err)
			}
		}
	}
	return nil
}

// SetLinkFaults replaces every link fault; each node's forwarder gets the
// links into and out of it, and the addresses that name its peers.
func (c *dockerCluster) SetLinkFaults(ctx context.Context, faults LinkFaults) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if !c.spec.LinkFaults {
		c.mu.Unlock()
		return fmt.Errorf("link faults: %w", ErrNoLinkFaults)
	}
	links := Grudge{}
	for dst, srcs := range faults {
		links[dst] = slices.Collect(maps.Keys(srcs))
	}
	if err := validateGrudge(links, func(id string) bool { _, ok := c.nodes[id]; return ok }); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("link faults: %w", err)
	}
	for dst, srcs := range faults {
		for src, f := range srcs {
			if err := f.Validate(); err != nil {
				c.mu.Unlock()
				return fmt.Errorf("link faults[%s][%s]: %w", dst, src, err)
			}
		}
	}
	c.links = copyLinkFaults(faults)
	c.mu.Unlock()
	c.log.Info("link faults", "faults", faults)
	return c.pushLinksAll(ctx)
}

func (c *dockerCluster) LinkFaults() LinkFaults {
	c.mu.Lock()
	defer c.mu.Unlock()
	return copyLinkFaults(c.links)
}

// linksOf is what node id's forwarder applies.
func (c *dockerCluster) linksOf(id string) linkpump.Links {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := linkpump.Links{Sources: map[string]string{}, In: map[string]LinkFault{}, Out: map[string]LinkFault{}}
	for nid, n := range c.nodes {
		if ip := n.netIP(); ip.IsValid() {
			l.Sources[ip.String()] = nid
		}
	}
	maps.Copy(l.In, c.links[id])
	for dst, srcs := range c.links {
		if f, ok := srcs[id]; ok {
			l.Out[dst] = f
		}
	}
	return l
}

// pushLinksAll gives every node's forwarder its links, in parallel. It does
// nothing while no link is disturbed and none was: a fresh forwarder starts
// healthy.
func (c *dockerCluster) pushLinksAll(ctx context.Context) error {
	c.mu.Lock()
	if !c.spec.LinkFaults || (len(c.links) == 0 && !c.linksPushed) {
		c.mu.Unlock()
		return nil
	}
	c.linksPushed = len(c.links) > 0
	c.mu.Unlock()
	return c.eachNode(ctx, c.pushLinks)
}

// pushLinks gives node n's forwarder its links. A node that is paused or
// down is marked and brought up to date when it resumes or restarts.
func (c *dockerCluster) pushLinks(ctx context.Context, n *dockerNode) error {
	n.rules.Lock()
	defer n.rules.Unlock()
	n.mu.Lock()
	unreachable := n.paused || n.down || n.ctr == nil
	if unreachable {
		n.linksStale = true
	}
	n.mu.Unlock()
	if unreachable {
		return nil
	}
	data, err := json.Marshal(c.linksOf(n.id))
	if err != nil {
		return err
	}
	if _, err := c.askInit(ctx, n, "links", string(data)); err != nil {
		if running, paused, serr := c.containerState(ctx, n); serr == nil && (!running || paused) {
			n.mu.Lock()
			n.linksStale = true
			n.mu.Unlock()
			return nil
		}
		return err
	}
	n.mu.Lock()
	n.linksStale = false
	n.mu.Unlock()
	return nil
}

// refreshLinks brings a node's forwarder up to date after it was paused
// or down (linksStale), and every forwarder when the node's address
// changed (they name their peers by address).
func (c *dockerCluster) refreshLinks(ctx context.Context, n *dockerNode, addressChanged bool) error {
	c.mu.Lock()
	skip := !c.spec.LinkFaults || c.closed
	c.mu.Unlock()
	if skip {
		return nil
	}
	if addressChanged {
		return c.pushLinksAll(ctx)
	}
	n.mu.Lock()
	stale := n.linksStale
	n.mu.Unlock()
	if !stale {
		return nil
	}
	return c.pushLinks(ctx, n)
}
