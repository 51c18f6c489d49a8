// Package system owns what a campaign knows about a system under test: how to
// obtain and start its nodes, how the workload talks to it, and the optional
// capabilities it offers. raftd, etcd and any server speaking the documented
// HTTP protocol are implementations. It must not import a checker package
// (history, check, campaign, nemesis, report): the arrows point from the
// checker down to the system, never back.
package system

import (
	"fmt"
	"slices"
	"strings"
)

// Capability is something optional a system can do for the checker. A fault
// kind or workload that needs a capability the chosen system lacks is refused
// before anything starts.
type Capability string

const (
	// Status: the system reports each node's role, term, leader and members.
	Status Capability = "status"
	// Membership: the system adds (as a learner first), promotes and removes
	// members at run time.
	Membership Capability = "membership"
	// MemberReplace: the system adds one member and removes another in one
	// atomic change (raftd's swap); etcd changes one member per request.
	MemberReplace Capability = "member-replace"
	// ClockSkew: the system skews a node's clock through an endpoint (Go
	// binaries cannot be skewed from outside: they read time through the vDSO).
	ClockSkew Capability = "clock-skew"
	// SlowDown: the system slows its own disk, state machine or network on
	// request.
	SlowDown Capability = "slow-down"
	// StaleRead: the system serves a deliberately stale read on request
	// (raftd's ?read=local, etcd's serializable reads).
	StaleRead Capability = "stale-read"
)

// AllCapabilities lists every capability in a fixed order.
var AllCapabilities = []Capability{Status, Membership, MemberReplace, ClockSkew, SlowDown, StaleRead}

// Capabilities is the set a system offers.
type Capabilities []Capability

// Has reports whether c is in the set.
func (cs Capabilities) Has(c Capability) bool { return slices.Contains(cs, c) }

// String lists the set as "status,membership", or "none".
func (cs Capabilities) String() string {
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = string(c)
	}
	return strings.Join(parts, ",")
}

// MissingError says that a system lacks a capability something asked for.
type MissingError struct {
	System     string     // the system's name, e.g. "etcd"
	Capability Capability // what is missing
	Wanted     string     // who asked, e.g. "nemesis kind clock"
	Available  []string   // what remains available instead, e.g. other fault kinds
}

func (e *MissingError) Error() string {
	msg := fmt.Sprintf("%s needs capability %q, which system %s does not have", e.Wanted, e.Capability, e.System)
	if len(e.Available) > 0 {
		msg += " (available: " + strings.Join(e.Available, ", ") + ")"
	}
	return msg
}
