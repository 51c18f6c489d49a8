package raft

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// MembershipChange asks the leader to add one server (Add with its Addr), to
// remove one (Remove), or to replace voter Remove by Add in a single joint
// change (both set).
type MembershipChange struct {
	Add    string
	Addr   string
	Remove string
}

// EncodeMembership is the payload of an EntryConfig entry.
func EncodeMembership(m Membership) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		// A Membership holds only strings: marshalling cannot fail.
		panic(fmt.Sprintf("raft: encode membership: %v", err))
	}
	return b
}

// DecodeMembership reads the payload of an EntryConfig entry.
func DecodeMembership(data []byte) (Membership, error) {
	var m Membership
	if err := json.Unmarshal(data, &m); err != nil {
		return Membership{}, fmt.Errorf("decode membership: %w", err)
	}
	if err := m.validate(); err != nil {
		return Membership{}, err
	}
	return m, nil
}

// IsEmpty reports whether m names no member at all (a joining node before a
// leader has contacted it).
func (m Membership) IsEmpty() bool {
	return len(m.Voters) == 0 && len(m.Outgoing) == 0 && len(m.Learners) == 0
}

// IsVoter reports whether id votes in C(new) or, while joint, in C(old).
func (m Membership) IsVoter(id string) bool {
	return slices.Contains(m.Voters, id) || slices.Contains(m.Outgoing, id)
}

// IsLearner reports whether id is a non-voting member.
func (m Membership) IsLearner(id string) bool { return slices.Contains(m.Learners, id) }

// Members lists every voter and learner once, sorted.
func (m Membership) Members() []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]string{m.Voters, m.Outgoing, m.Learners} {
		for _, id := range list {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Clone returns a deep copy, so callers never alias the node's state.
func (m Membership) Clone() Membership {
	c := Membership{
		Voters:   slices.Clone(m.Voters),
		Outgoing: slices.Clone(m.Outgoing),
		Learners: slices.Clone(m.Learners),
	}
	if m.Addrs != nil {
		c.Addrs = make(map[string]string, len(m.Addrs))
		for k, v := range m.Addrs {
			c.Addrs[k] = v
		}
	}
	return c
}

func (m Membership) validate() error {
	seen := map[string]bool{}
	for _, id := range m.Voters {
		if id == "" {
			return errors.New("membership: empty voter id")
		}
		if seen[id] {
			return fmt.Errorf("membership: voter %q listed twice", id)
		}
		seen[id] = true
	}
	dup := map[string]bool{}
	for _, id := range m.Outgoing {
		if id == "" || dup[id] {
			return fmt.Errorf("membership: bad outgoing voter %q", id)
		}
		dup[id] = true
	}
	for _, id := range m.Learners {
		if id == "" || m.IsVoter(id) || seen[id+"\x00l"] {
			return fmt.Errorf("membership: learner %q is empty, duplicated or also a voter", id)
		}
		seen[id+"\x00l"] = true
	}
	return nil
}

// withLearner returns m plus a learner id at addr.
func (m Membership) withLearner(id, addr string) Membership {
	c := m.Clone()
	c.Learners = append(c.Learners, id)
	sort.Strings(c.Learners)
	if c.Addrs == nil {
		c.Addrs = map[string]string{}
	}
	c.Addrs[id] = addr
	return c
}

// withoutLearner returns m minus the learner id (a learner never counts in a
// quorum, so this needs no joint phase).
func (m Membership) withoutLearner(id string) Membership {
	c := m.Clone()
	c.Learners = slices.DeleteFunc(c.Learners, func(s string) bool { return s == id })
	delete(c.Addrs, id)
	return c
}

// enterJoint returns C(old,new) where C(new) has the given voters; learners
// promoted to voters leave the learner list.
func (m Membership) enterJoint(newVoters []string) Membership {
	c := m.Clone()
	c.Outgoing = slices.Clone(m.Voters)
	c.Voters = slices.Clone(newVoters)
	sort.Strings(c.Voters)
	c.Learners = slices.DeleteFunc(c.Learners, func(s string) bool { return slices.Contains(newVoters, s) })
	return c
}

// leaveJoint returns C(new): the outgoing voters go, and so do addresses of
// servers that are no longer members.
func (m Membership) leaveJoint() Membership {
	c := m.Clone()
	c.Outgoing = nil
	for id := range c.Addrs {
		if !c.IsVoter(id) && !c.IsLearner(id) {
			delete(c.Addrs, id)
		}
	}
	return c
}

// validateChange checks a requested change against the latest configuration.
func (m Membership) validateChange(c MembershipChange) error {
	switch {
	case c.Add != "" && c.Remove != "":
		switch {
		case c.Addr == "":
			return fmt.Errorf("membership change: Add %q needs an Addr", c.Add)
		case c.Add == c.Remove:
			return fmt.Errorf("membership change: cannot add and remove %q at once", c.Add)
		case m.IsVoter(c.Add):
			return fmt.Errorf("membership change: %q is already a voter", c.Add)
		case !m.IsVoter(c.Remove):
			// A learner leaves without a joint phase: replacing one is two
			// separate changes.
			return fmt.Errorf("membership change: Remove %q must be a voter when Add is set too", c.Remove)
		}
	case c.Add == "" && c.Remove == "":
		return errors.New("membership change: set one of Add and Remove")
	case c.Add != "":
		if c.Addr == "" {
			return fmt.Errorf("membership change: Add %q needs an Addr", c.Add)
		}
		if m.IsVoter(c.Add) {
			return fmt.Errorf("membership change: %q is already a voter", c.Add)
		}
	default:
		if !m.IsVoter(c.Remove) && !m.IsLearner(c.Remove) {
			return fmt.Errorf("membership change: %q is not a member", c.Remove)
		}
		if m.IsVoter(c.Remove) && len(m.Voters) == 1 {
			return fmt.Errorf("membership change: cannot remove %q, the last voter", c.Remove)
		}
	}
	return nil
}
