// Package linkpump owns what a faulty link does to the bytes of a TCP
// stream: delay with jitter, loss (as stalls and resets), a bandwidth limit
// and a flaky link, applied chunk by chunk by Pump, and Forwarder, a proxy
// that applies them per source node. The process runtime's proxy and the
// in-container helper (cmd/faultinit) both pump through it.
package linkpump

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Fault is what one directed link (from a source node to a destination
// node) suffers, below the system under test: its bytes still flow in order
// on the same TCP streams, late, slowly, in stalls, or cut short. The zero
// value is a healthy link.
type Fault struct {
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
func (f Fault) IsZero() bool { return f == Fault{} }

// Validate refuses values that make no sense, naming the field.
func (f Fault) Validate() error {
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

// ChunkSize is the most a link pump moves at once: small enough that
// jitter, loss and bandwidth act on raft messages, not on megabytes.
const ChunkSize = 16 << 10

// pumpDepth bounds the chunks in flight on one pumped direction: a slow
// link pushes back on its sender, as a full TCP window does.
const pumpDepth = 256

type chunk struct {
	data []byte
	due  time.Time
}

// Pump copies from r to w through a link whose fault is read live, so a
// change applies to streams already open. It returns when either side
// fails, when the fault resets the link, or when quit is closed.
func Pump(w io.Writer, r io.Reader, fault func() Fault, quit <-chan struct{}) {
	chunks := make(chan chunk, pumpDepth)
	stop := make(chan struct{})
	var queued atomic.Int64 // chunks handed to the writer and not yet written
	go func() {
		defer close(chunks)
		var last time.Time
		buf := make([]byte, ChunkSize)
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
func flakyWait(f Fault, at time.Time) time.Duration {
	period := time.Duration(f.FlakyUpMs+f.FlakyDownMs) * time.Millisecond
	up := time.Duration(f.FlakyUpMs) * time.Millisecond
	if phase := time.Duration(at.UnixNano()) % period; phase >= up {
		return period - phase
	}
	return 0
}
