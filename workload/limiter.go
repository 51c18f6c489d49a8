package workload

import (
	"context"
	"sync"
	"time"
)

// limiter spaces operations of all workers so that together they issue at
// most rate operations per second. It hands out start slots one interval
// apart; a worker that falls behind takes the next free slot rather than
// bursting to catch up, so a stalled cluster is not flooded when it returns.
type limiter struct {
	interval time.Duration // zero: unlimited

	mu   sync.Mutex
	next time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{interval: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the caller's slot, or returns false when ctx is done.
func (l *limiter) wait(ctx context.Context) bool {
	if l.interval == 0 {
		return ctx.Err() == nil
	}
	return sleepCtx(ctx, time.Until(l.reserve(time.Now())))
}

// reserve hands out the next start slot at or after now.
func (l *limiter) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next.Before(now) {
		l.next = now
	}
	slot := l.next
	l.next = l.next.Add(l.interval)
	return slot
}

// sleepCtx sleeps for d, or returns false early when ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
