package server

import (
	"sync"
	"testing"
	"time"
)

// fakeReal is a settable real-time source.
type fakeReal struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeReal) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeReal) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func TestClockIsPiecewiseLinear(t *testing.T) {
	real := &fakeReal{now: time.Unix(1000, 0)}
	c := newClockFrom(real.Now)
	start := c.Now()

	real.advance(time.Second)
	if got := c.Now().Sub(start); got != time.Second {
		t.Fatalf("at rate 1, one real second = %v of clock", got)
	}
	// Doubling the rate keeps the clock continuous.
	if err := c.SetSkew(0, 2); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(start); got != time.Second {
		t.Fatalf("changing the rate moved the clock: %v", got)
	}
	real.advance(time.Second)
	if got := c.Now().Sub(start); got != 3*time.Second {
		t.Fatalf("one real second at rate 2: clock at %v, want 3s", got)
	}
	// An offset jumps by the difference with the previous offset.
	c.SetSkew(500*time.Millisecond, 2)
	if got := c.Now().Sub(start); got != 3500*time.Millisecond {
		t.Fatalf("after +500ms offset: %v", got)
	}
	c.SetSkew(200*time.Millisecond, 1)
	if got := c.Now().Sub(start); got != 3200*time.Millisecond {
		t.Fatalf("after lowering the offset to 200ms: %v, want a 300ms backward jump", got)
	}
	if off, rate := c.Skew(); off != 200*time.Millisecond || rate != 1 {
		t.Fatalf("Skew() = %v %v", off, rate)
	}
	for _, bad := range []float64{0, -1} {
		if err := c.SetSkew(0, bad); err == nil {
			t.Errorf("rate %v accepted", bad)
		}
	}
}

func TestClockRealUntil(t *testing.T) {
	real := &fakeReal{now: time.Unix(1000, 0)}
	c := newClockFrom(real.Now)
	target := c.Now().Add(time.Second)
	c.SetSkew(0, 4)
	if d, _ := c.realUntil(target); d != 250*time.Millisecond {
		t.Fatalf("at rate 4 one clock second is %v of real time, want 250ms", d)
	}
	_, changed := c.realUntil(target)
	c.SetSkew(0, 1)
	select {
	case <-changed:
	default:
		t.Fatal("changing the skew did not wake sleepers")
	}
	real.advance(2 * time.Second)
	if d, _ := c.realUntil(target); d != 0 {
		t.Fatalf("past target: wait %v", d)
	}
}

func TestTicksDue(t *testing.T) {
	base := time.Unix(0, 0)
	tick := 10 * time.Millisecond
	cases := []struct {
		name string
		now  time.Duration // clock time since base; the next tick is due at base+tick
		n    int
		next time.Duration
	}{
		{"before the tick", 5 * time.Millisecond, 0, 10 * time.Millisecond},
		{"exactly due", 10 * time.Millisecond, 1, 20 * time.Millisecond},
		{"three late ticks", 35 * time.Millisecond, 3, 40 * time.Millisecond},
		{"a jump beyond the burst cap", 10 * time.Second, 20, 10*time.Second + 10*time.Millisecond},
	}
	for _, tc := range cases {
		n, next := ticksDue(base.Add(tc.now), base.Add(tick), tick, 20)
		if n != tc.n || !next.Equal(base.Add(tc.next)) {
			t.Errorf("%s: got %d ticks, next at %v; want %d, %v", tc.name, n, next.Sub(base), tc.n, tc.next)
		}
	}
}

// A node's ticks follow its clock's rate: at rate 4 it ticks about four
// times as often. Counted over many ticks so scheduling noise cannot flip
// the comparison.
func TestTickerFollowsClockRate(t *testing.T) {
	count := func(rate float64) int {
		c := NewClock()
		c.SetSkew(0, rate)
		tk := newTicker(c, 5*time.Millisecond, 1000)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { tk.run(stop); close(done) }()
		time.Sleep(200 * time.Millisecond)
		close(stop)
		<-done
		return tk.take()
	}
	slow, fast := count(1), count(4)
	if fast < 2*slow {
		t.Fatalf("rate 4 produced %d ticks, rate 1 %d: want clearly more at rate 4", fast, slow)
	}
}

// A backward jump stalls ticks until the clock is back where the next tick
// was due.
func TestTickerStallsAfterBackwardJump(t *testing.T) {
	c := NewClock()
	tk := newTicker(c, 5*time.Millisecond, 1000)
	stop := make(chan struct{})
	defer close(stop)
	go tk.run(stop)
	time.Sleep(20 * time.Millisecond)
	c.SetSkew(-time.Hour, 1)
	tk.take()
	time.Sleep(100 * time.Millisecond)
	if n := tk.take(); n > 1 {
		t.Fatalf("%d ticks after the clock went back an hour, want none (one may have been in flight)", n)
	}
}
