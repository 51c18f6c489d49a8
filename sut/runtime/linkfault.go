package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
)

// LinkFault is what one directed link (from a source node to a destination
// node) suffers, below the system under test: its bytes still flow in order
// on the same TCP streams, late, slowly, in stalls, or cut short. The zero
// value is a healthy link.
type LinkFault struct {
	// DelayMs delays every chunk of bytes; JitterMs adds up to that much
	// more, drawn per chunk. TCP keeps order, so a chunk never overtakes
	// the one before it.
	DelayMs  int64 `json:"delay_ms,omitempty"`
	JitterMs int64 `json:"jitter_ms,omitempty"`
	// LossPct is the chance (0-100) that a chunk is lost. On TCP a loss is
	// a stall: the stream waits StallMs (the retransmission timeout) and
	// everything behind the chunk waits with it.
	LossPct float64 `json:"loss_pct,omitempty"`
	StallMs int64   `json:"stall_ms,omitempty"`
	// ResetPct is the chance (0-100) per chunk that the connection is
	// reset: both ends see it closed and must reconnect.
	ResetPct float64 `json:"reset_pct,omitempty"`
	// BandwidthKBps limits the link to that many KiB per second.
	BandwidthKBps int64 `json:"bandwidth_kbps,omitempty"`
	// FlakyUpMs and FlakyDownMs make the link come and go: up for
	// FlakyUpMs, then down (nothing passes, streams stall) for FlakyDownMs,
	// over and over.
	FlakyUpMs   int64 `json:"flaky_up_ms,omitempty"`
	FlakyDownMs int64 `json:"flaky_down_ms,omitempty"`
}

// IsZero reports a healthy link.
func (f LinkFault) IsZero() bool { return f == LinkFault{} }

// Validate refuses values that make no sense, naming the field.
func (f LinkFault) Validate() error {
	switch {
	case f.DelayMs < 0 || f.JitterMs < 0 || f.StallMs < 0 || f.BandwidthKBps < 0 || f.FlakyUpMs < 0 || f.FlakyDownMs < 0:
		return fmt.Errorf("link fault %+v: durations and bandwidth must not be negative", f)
	case f.LossPct < 0 || f.LossPct > 100 || f.ResetPct < 0 || f.ResetPct > 100:
		return fmt.Errorf("link fault %+v: loss_pct and reset_pct are percentages (0-100)", f)
	case (f.FlakyUpMs == 0) != (f.FlakyDownMs == 0):
		return fmt.Errorf("link fault %+v: flaky_up_ms and flaky_down_ms go together", f)
	}
	return nil
}

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

// chunkSize is the most a link pump moves at once: small enough that
// jitter, loss and bandwidth act on raft messages, not on megabytes.
const chunkSize = 16 << 10

// pumpDepth bounds the chunks in flight on one pumped direction: a slow
// link pushes back on its sender, as a full TCP window does.
const pumpDepth = 256

type chunk struct {
	data []byte
	due  time.Time
}

// pump copies from r to w through a link whose fault is read live, so a
// change applies to streams already open. It returns when either side
// fails, when the fault resets the link, or when quit is closed.
func pump(w io.Writer, r io.Reader, fault func() LinkFault, quit <-chan struct{}) {
	chunks := make(chan chunk, pumpDepth)
	stop := make(chan struct{})
	var queued atomic.Int64 // chunks handed to the writer and not yet written
	go func() {
		defer close(chunks)
		var last time.Time
		buf := make([]byte, chunkSize)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				f := fault()
				if f.IsZero() && queued.Load() == 0 {
					// A healthy link with nothing queued: straight
					// through, as io.Copy would.
					if _, werr := w.Write(buf[:n]); werr != nil {
						return
					}
					continue
				}
				if f.ResetPct > 0 && rand.Float64()*100 < f.ResetPct {
					return
				}
				due := time.Now().Add(time.Duration(f.DelayMs) * time.Millisecond)
				if f.JitterMs > 0 {
					due = due.Add(time.Duration(rand.Int64N(f.JitterMs+1)) * time.Millisecond)
				}
				if f.LossPct > 0 && rand.Float64()*100 < f.LossPct {
					due = due.Add(time.Duration(f.StallMs) * time.Millisecond)
				}
				if due.Before(last) {
					due = last
				}
				last = due
				queued.Add(1)
				select {
				case chunks <- chunk{data: bytes.Clone(buf[:n]), due: due}:
				case <-stop:
					return
				case <-quit:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	defer close(stop)
	var sentAt time.Time // when the bandwidth budget allows the next byte
	for c := range chunks {
		f := fault()
		wait := time.Until(c.due)
		if f.FlakyUpMs > 0 {
			wait = max(wait, flakyWait(f, time.Now().Add(wait)))
		}
		if f.BandwidthKBps > 0 {
			now := time.Now()
			if sentAt.Before(now) {
				sentAt = now
			}
			wait = max(wait, time.Until(sentAt))
			sentAt = sentAt.Add(time.Duration(len(c.data)) * time.Second / time.Duration(f.BandwidthKBps<<10))
		}
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-quit:
				return
			}
		}
		_, err := w.Write(c.data)
		queued.Add(-1)
		if err != nil {
			return
		}
	}
}

// flakyWait is how long a flaky link stays down from at: zero while it is
// up. The phase follows the wall clock, so every stream of a link goes down
// together.
func flakyWait(f LinkFault, at time.Time) time.Duration {
	period := time.Duration(f.FlakyUpMs+f.FlakyDownMs) * time.Millisecond
	up := time.Duration(f.FlakyUpMs) * time.Millisecond
	if phase := time.Duration(at.UnixNano()) % period; phase >= up {
		return period - phase
	}
	return 0
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
