package runtime

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/faultline/faultline/sut/runtime/linkpump"
)

// LinkFault is what one directed link suffers (linkpump.Fault): its bytes
// still flow in order on the same TCP streams, late, slowly, in stalls, or
// cut short. The zero value is a healthy link.
type LinkFault = linkpump.Fault

// LinkFaults says, for each destination node, what the links from each
// source suffer: faults[dst][src], like a Grudge.
type LinkFaults map[string]map[string]LinkFault

// LinkFaulter is a cluster whose peer links can be delayed, made lossy,
// throttled or flaky, link by link (the process runtime: its per-node
// proxy).
type LinkFaulter interface {
	// SetLinkFaults replaces every link fault with faults; nil heals them
	// all.
	SetLinkFaults(ctx context.Context, faults LinkFaults) error
	// LinkFaults returns the faults in place (nil when every link is
	// healthy).
	LinkFaults() LinkFaults
}

func (c *processCluster) SetLinkFaults(ctx context.Context, faults LinkFaults) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	links := Grudge{}
	for dst, srcs := range faults {
		links[dst] = slices.Collect(maps.Keys(srcs))
	}
	if err := validateGrudge(links, func(id string) bool { _, ok := c.nodes[id]; return ok }); err != nil {
		return fmt.Errorf("link faults: %w", err)
	}
	for dst, srcs := range faults {
		for src, f := range srcs {
			if err := f.Validate(); err != nil {
				return fmt.Errorf("link faults[%s][%s]: %w", dst, src, err)
			}
		}
	}
	c.links = copyLinkFaults(faults)
	c.applyLinkFaultsLocked()
	c.log.Info("link faults", "faults", c.links)
	return nil
}

func (c *processCluster) LinkFaults() LinkFaults {
	c.mu.Lock()
	defer c.mu.Unlock()
	return copyLinkFaults(c.links)
}

// applyLinkFaultsLocked gives every node's proxy its links' faults.
func (c *processCluster) applyLinkFaultsLocked() {
	for id, n := range c.nodes {
		in, out := map[string]LinkFault{}, map[string]LinkFault{}
		for src, f := range c.links[id] {
			in[src] = f
		}
		for dst, srcs := range c.links {
			if f, ok := srcs[id]; ok {
				out[dst] = f
			}
		}
		n.proxy.setLinkFaults(in, out)
	}
}

func copyLinkFaults(faults LinkFaults) LinkFaults {
	if len(faults) == 0 {
		return nil
	}
	out := make(LinkFaults, len(faults))
	for dst, srcs := range faults {
		m := make(map[string]LinkFault, len(srcs))
		for src, f := range srcs {
			if !f.IsZero() {
				m[src] = f
			}
		}
		out[dst] = m
	}
	return out
}
