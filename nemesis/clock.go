package nemesis

import (
	"math"
	"math/rand/v2"
)

// Clock fault modes.
const (
	ClockBump   = "bump"   // some nodes jump ahead or behind
	ClockStrobe = "strobe" // some nodes' offsets flip sign several times during the hold
	ClockSkew   = "skew"   // some nodes run slow, the others fast
	// ClockSkewIsolateLeader runs the leader's clock at the slowest allowed
	// rate and every other clock at the fastest, then cuts the leader off
	// from the rest: the one moment a lease is tested, a deposed leader
	// whose lease must run out before a new leader can be elected. Planned
	// only when partitions are among the requested kinds.
	ClockSkewIsolateLeader = "skew-isolate-leader"
)

// Offsets are drawn from ±[minOffsetMs, maxOffsetMs]: small enough to stay
// within an election timeout's order of magnitude, large enough to matter
// against heartbeats and leases.
const (
	minOffsetMs = 100
	maxOffsetMs = 2000
)

// strobeFlips is the range of sign flips of a strobe during one hold.
const (
	minStrobeFlips = 4
	maxStrobeFlips = 10
)

// RateBounds returns the slowest and fastest clock rates the nemesis sets for
// a maximum clock drift d (raftd's --max-clock-drift, as a fraction):
// 1/sqrt(1/(1-d)) and sqrt(1/(1-d)), so that the ratio between any two
// nodes' rates is at most 1/(1-d).
//
// Why this bound: a leader lease is safe only if the leader's lease expires,
// in real time, before any follower's election timeout can run out. raftd
// shortens the lease by the factor (1-d) for exactly this reason, which
// covers two clocks whose rates differ by up to a factor 1/(1-d) and no
// more. Skewing rates beyond that would make a correct lease unsafe by
// design, and a stale read found that way would be the nemesis's fault,
// not a bug in the system under test. With d outside (0, 1) rate skew is
// off and both bounds are 1.
func RateBounds(maxDrift float64) (slow, fast float64) {
	if !(maxDrift > 0 && maxDrift < 1) {
		return 1, 1
	}
	fast = math.Sqrt(1 / (1 - maxDrift))
	return 1 / fast, fast
}

// randomOffsetMs draws an offset in ±[minOffsetMs, maxOffsetMs].
func randomOffsetMs(rng *rand.Rand) int64 {
	off := int64(minOffsetMs + rng.IntN(maxOffsetMs-minOffsetMs+1))
	if rng.IntN(2) == 0 {
		off = -off
	}
	return off
}
