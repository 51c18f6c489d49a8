package server

import (
	"sync/atomic"
	"time"
)

// ticker turns Clock time into Raft ticks: one tick per interval of CLOCK
// time, so a node whose clock runs at rate 2 ticks twice as fast in real
// time, and its election timeouts and leases shrink accordingly.
//
// Jumps: a forward offset jump produces the ticks it skipped, at most
// maxBurst of them at once (a large jump therefore looks like a long stall
// followed by an election timeout, not like hundreds of instantaneous
// heartbeats). A backward jump produces no tick until the clock is back where
// the next tick was due: the node's timers stall for the length of the jump,
// which is what a timer built on a clock that was set back would do.
type ticker struct {
	clock    *Clock
	interval time.Duration
	maxBurst int

	pending atomic.Int64  // ticks produced and not yet taken
	signal  chan struct{} // capacity 1: "pending > 0"
}

func newTicker(c *Clock, interval time.Duration, maxBurst int) *ticker {
	if maxBurst < 1 {
		maxBurst = 1
	}
	return &ticker{clock: c, interval: interval, maxBurst: maxBurst, signal: make(chan struct{}, 1)}
}

// take returns the ticks produced since the last take.
func (t *ticker) take() int { return int(t.pending.Swap(0)) }

// ticksDue says how many ticks are due at clock time now when the next tick
// was due at next, and when the tick after them is due. Skipped ticks beyond
// maxBurst are dropped.
func ticksDue(now, next time.Time, interval time.Duration, maxBurst int) (int, time.Time) {
	if now.Before(next) {
		return 0, next
	}
	n := int(now.Sub(next)/interval) + 1
	if n > maxBurst {
		// Drop the excess and realign on the current clock time.
		return maxBurst, now.Add(interval)
	}
	return n, next.Add(time.Duration(n) * interval)
}

// run produces ticks until stop is closed.
func (t *ticker) run(stop <-chan struct{}) {
	next := t.clock.Now().Add(t.interval)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait, changed := t.clock.realUntil(next)
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-stop:
				return
			case <-changed: // the skew changed: recompute the wait
			case <-timer.C:
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			continue
		}
		var n int
		n, next = ticksDue(t.clock.Now(), next, t.interval, t.maxBurst)
		if n == 0 {
			continue
		}
		// Ticks the drive loop has not taken yet are capped too: a stalled
		// loop must not receive a storm of ticks when it resumes.
		for {
			p := t.pending.Load()
			if t.pending.CompareAndSwap(p, min(p+int64(n), int64(t.maxBurst))) {
				break
			}
		}
		select {
		case t.signal <- struct{}{}:
		default:
		}
	}
}
