package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"time"

	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/raft"
)

// Config is everything a raftd node is started with. cmd/raftd fills it from
// flags; tests fill it directly.
type Config struct {
	ID      string
	Listen  string            // host:port serving clients and peers; the caller owns the listener, a specific IP here is also the source of peer dials
	Peers   map[string]string // initial voters, id -> host:port, this node included (may be just this node with Join)
	DataDir string
	Cluster string // identity checked by the WAL
	Join    bool   // start with no configuration and wait to be added

	ReadMode       raft.ReadMode
	Bugs           bugs.Set
	FaultInjection bool // enables /fault/... endpoints

	Tick           time.Duration // one Raft tick of clock time
	ElectionTicks  int
	HeartbeatTicks int
	MaxClockDrift  float64 // fraction in [0,1): the lease is ElectionTicks*(1-MaxClockDrift) ticks
	SnapshotEvery  int     // applied entries between snapshots
	Seed           int64

	RequestTimeout    time.Duration // client requests answer 504 after this; default 5s
	MembershipTimeout time.Duration // POST /admin/members answers 504 after this; default 20s

	// UnsafeNoSync skips fsync in the WAL. Tests only: it makes every
	// acknowledgement a lie after a power failure.
	UnsafeNoSync bool

	Logger *slog.Logger
}

// Defaults for the fields a caller may leave zero.
const (
	DefaultTick              = 50 * time.Millisecond
	DefaultElectionTicks     = 10
	DefaultHeartbeatTicks    = 1
	DefaultMaxClockDrift     = 0.2
	DefaultSnapshotEvery     = 10000
	DefaultCluster           = "raftd"
	DefaultRequestTimeout    = 5 * time.Second
	DefaultMembershipTimeout = 20 * time.Second
)

func (c *Config) applyDefaults() {
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.ElectionTicks == 0 {
		c.ElectionTicks = DefaultElectionTicks
	}
	if c.HeartbeatTicks == 0 {
		c.HeartbeatTicks = DefaultHeartbeatTicks
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	if c.Cluster == "" {
		c.Cluster = DefaultCluster
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MembershipTimeout == 0 {
		c.MembershipTimeout = DefaultMembershipTimeout
	}
	if c.Bugs == nil {
		c.Bugs = bugs.Set{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first bad field, named as the raftd flag that sets it.
func (c *Config) Validate() error {
	if c.ID == "" {
		return errors.New("--id: must not be empty")
	}
	if c.DataDir == "" {
		return errors.New("--data: must not be empty")
	}
	if c.Tick <= 0 {
		return fmt.Errorf("--tick: must be positive, got %v", c.Tick)
	}
	if c.HeartbeatTicks < 1 {
		return fmt.Errorf("--heartbeat-ticks: must be at least 1, got %d", c.HeartbeatTicks)
	}
	if c.ElectionTicks <= c.HeartbeatTicks {
		return fmt.Errorf("--election-ticks: must exceed --heartbeat-ticks (%d), got %d", c.HeartbeatTicks, c.ElectionTicks)
	}
	if c.MaxClockDrift < 0 || c.MaxClockDrift >= 1 {
		return fmt.Errorf("--max-clock-drift: must be in [0, 1), got %v", c.MaxClockDrift)
	}
	if c.SnapshotEvery < 1 {
		return fmt.Errorf("--snapshot-every: must be at least 1, got %d", c.SnapshotEvery)
	}
	if c.ReadMode > raft.ReadLog {
		return fmt.Errorf("--read-mode: unknown mode %d", c.ReadMode)
	}
	for id, addr := range c.Peers {
		if id == "" {
			return errors.New("--peers: an entry has an empty id")
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("--peers: address of %s: %v", id, err)
		}
	}
	if !c.Join {
		if _, ok := c.Peers[c.ID]; !ok {
			return fmt.Errorf("--peers: must list this node (%s) unless --join is given", c.ID)
		}
	}
	for name := range c.Bugs {
		if _, ok := bugs.Lookup(name); !ok {
			return fmt.Errorf("--bug: unknown bug %q", name)
		}
	}
	return nil
}

// ParseReadMode maps a --read-mode value to the core's ReadMode.
func ParseReadMode(s string) (raft.ReadMode, error) {
	switch s {
	case "readindex", "":
		return raft.ReadIndex, nil
	case "lease":
		return raft.ReadLease, nil
	case "log":
		return raft.ReadLog, nil
	}
	return 0, fmt.Errorf("unknown read mode %q (want readindex, lease or log)", s)
}

// ReadModeName is the inverse of ParseReadMode.
func ReadModeName(m raft.ReadMode) string {
	switch m {
	case raft.ReadIndex:
		return "readindex"
	case raft.ReadLease:
		return "lease"
	case raft.ReadLog:
		return "log"
	}
	return fmt.Sprintf("mode(%d)", m)
}

// bootstrapMembership is the initial configuration from --peers; empty for a
// joining node, which learns its configuration from the leader.
func (c *Config) bootstrapMembership() raft.Membership {
	if c.Join {
		return raft.Membership{}
	}
	m := raft.Membership{Addrs: map[string]string{}}
	for id, addr := range c.Peers {
		m.Voters = append(m.Voters, id)
		m.Addrs[id] = addr
	}
	sort.Strings(m.Voters)
	return m
}

// listenIP is the specific IP of --listen, or nil for a wildcard or a name.
func (c *Config) listenIP() net.IP {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	return ip
}
