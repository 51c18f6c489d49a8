package raft

import (
	"errors"
	"fmt"

	"github.com/faultline/faultline/sut/bugs"
)

// Defaults used when the matching Config field is zero.
const (
	DefaultMaxEntriesPerMsg  = 256
	DefaultMaxInflightMsgs   = 64
	DefaultSnapshotChunkSize = 64 << 10
)

// Errors returned by the RawNode.
var (
	// ErrNotLeader is returned by proposals to a node that is not the leader.
	ErrNotLeader = errors.New("raft: not the leader")
	// ErrChangeInProgress is returned while an earlier membership change
	// (learner catch-up, joint configuration, or an uncommitted
	// configuration) has not finished.
	ErrChangeInProgress = errors.New("raft: a membership change is already in progress")
	// ErrCompacted is returned by Compact for an index the node has already
	// compacted.
	ErrCompacted = errors.New("raft: index already compacted")
)

// Config configures a RawNode. See NewRawNode.
type Config struct {
	ID string
	// ElectionTick is the minimum election timeout in ticks; each timeout is
	// drawn from [ElectionTick, 2*ElectionTick).
	ElectionTick  int
	HeartbeatTick int
	// Seed seeds the node's private random source (mixed with ID so that
	// nodes sharing a seed still draw different timeouts).
	Seed     int64
	ReadMode ReadMode
	// MaxClockDrift is the bound on clock rate error between nodes the lease
	// tolerates: lease = floor(ElectionTick*(1-MaxClockDrift)) ticks counted
	// from the tick the acknowledged heartbeat round was sent.
	MaxClockDrift float64
	Bugs          bugs.Set

	MaxEntriesPerMsg  int // 0 = DefaultMaxEntriesPerMsg
	MaxInflightMsgs   int // 0 = DefaultMaxInflightMsgs
	SnapshotChunkSize int // 0 = DefaultSnapshotChunkSize

	// Restored durable state (from the WAL); all empty for a fresh node.
	HardState HardState
	Snapshot  *Snapshot // may be nil
	Entries   []Entry   // the log after the snapshot, contiguous

	// Bootstrap is the initial configuration of a brand new cluster member.
	// It is used only when neither Snapshot nor Entries hold a configuration.
	// A joining node passes an empty Bootstrap and stays passive until a
	// leader contacts it.
	Bootstrap Membership
}

// validate checks the plain fields and fills defaults.
func (c *Config) validate() error {
	if c.ID == "" {
		return errors.New("raft config: field ID is empty")
	}
	if c.HeartbeatTick <= 0 {
		return fmt.Errorf("raft config: field HeartbeatTick must be > 0, got %d", c.HeartbeatTick)
	}
	if c.ElectionTick <= c.HeartbeatTick {
		return fmt.Errorf("raft config: field ElectionTick (%d) must be greater than HeartbeatTick (%d)", c.ElectionTick, c.HeartbeatTick)
	}
	if c.MaxClockDrift < 0 || c.MaxClockDrift >= 1 {
		return fmt.Errorf("raft config: field MaxClockDrift must be in [0, 1), got %v", c.MaxClockDrift)
	}
	switch c.ReadMode {
	case ReadIndex, ReadLease, ReadLog:
	default:
		return fmt.Errorf("raft config: field ReadMode has unknown value %d", c.ReadMode)
	}
	if c.MaxEntriesPerMsg < 0 || c.MaxInflightMsgs < 0 || c.SnapshotChunkSize < 0 {
		return errors.New("raft config: MaxEntriesPerMsg, MaxInflightMsgs and SnapshotChunkSize must not be negative")
	}
	if c.MaxEntriesPerMsg == 0 {
		c.MaxEntriesPerMsg = DefaultMaxEntriesPerMsg
	}
	if c.MaxInflightMsgs == 0 {
		c.MaxInflightMsgs = DefaultMaxInflightMsgs
	}
	if c.SnapshotChunkSize == 0 {
		c.SnapshotChunkSize = DefaultSnapshotChunkSize
	}
	if err := c.Bootstrap.validate(); err != nil {
		return fmt.Errorf("raft config: field Bootstrap: %w", err)
	}
	if c.Snapshot != nil {
		if err := c.Snapshot.Meta.Membership.validate(); err != nil {
			return fmt.Errorf("raft config: field Snapshot.Meta.Membership: %w", err)
		}
	}
	return nil
}

// leaseTicks is how long a confirmed heartbeat round lets the leader serve
// reads without another round.
func (c *Config) leaseTicks() uint64 {
	// PLANTED BUG lease-ignores-drift: the lease trusts this node's clock rate
	// and lasts a whole minimum election timeout, so a leader whose clock runs
	// slow keeps serving after a new leader may have been elected.
	if c.Bugs.Has(bugs.LeaseIgnoresDrift) {
		return uint64(c.ElectionTick)
	}
	l := int(float64(c.ElectionTick) * (1 - c.MaxClockDrift))
	if l < 0 {
		return 0
	}
	return uint64(l)
}
