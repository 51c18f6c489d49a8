package server

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Clock is the one time source every raftd timer reads. It can be skewed at
// run time (POST /fault/clock) to model a node whose clock is off or runs at
// the wrong speed, which is the fault lease reads must survive.
//
// The clock is piecewise linear in real time:
//
//	now = base + (real elapsed since the last change) * rate
//
// where base already includes every offset jump. Changing the rate keeps the
// clock continuous; changing the offset makes it jump by the difference
// between the new and the old offset (so resetting to offset 0, rate 1 undoes
// the jumps but keeps the time a changed rate gained or lost, as a real
// drifting clock would).
type Clock struct {
	realNow func() time.Time

	mu      sync.Mutex
	base    time.Time // clock reading at realAt
	realAt  time.Time // real instant of the last change
	offset  time.Duration
	rate    float64
	changed chan struct{} // closed and replaced on every change, wakes sleepers
}

// NewClock returns a clock that starts equal to real time, at rate 1.
func NewClock() *Clock { return newClockFrom(time.Now) }

func newClockFrom(realNow func() time.Time) *Clock {
	now := realNow()
	return &Clock{realNow: realNow, base: now, realAt: now, rate: 1, changed: make(chan struct{})}
}

// Now reads the skewed clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked(c.realNow())
}

func (c *Clock) nowLocked(real time.Time) time.Time {
	elapsed := real.Sub(c.realAt)
	return c.base.Add(time.Duration(float64(elapsed) * c.rate))
}

// Skew returns the offset and rate last set.
func (c *Clock) Skew() (offset time.Duration, rate float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset, c.rate
}

// SetSkew jumps the clock by (offset - previous offset) and makes it run at
// rate from now on. rate must be positive and finite.
func (c *Clock) SetSkew(offset time.Duration, rate float64) error {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return fmt.Errorf("rate must be a positive number, got %v", rate)
	}
	c.mu.Lock()
	real := c.realNow()
	c.base = c.nowLocked(real).Add(offset - c.offset)
	c.realAt = real
	c.offset = offset
	c.rate = rate
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// realUntil returns how long in real time the clock needs to reach t (zero
// if it already has), and a channel closed when the skew next changes, which
// invalidates that estimate.
func (c *Clock) realUntil(t time.Time) (time.Duration, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ahead := t.Sub(c.nowLocked(c.realNow()))
	if ahead <= 0 {
		return 0, c.changed
	}
	return time.Duration(math.Ceil(float64(ahead) / c.rate)), c.changed
}
