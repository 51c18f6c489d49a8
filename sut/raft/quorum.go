package raft

import (
	"math"
	"slices"
)

// majorityValue returns the largest v such that a majority of ids have a value
// >= v. An empty group imposes no constraint (math.MaxUint64), which is what
// the Outgoing half of a non-joint configuration needs.
func majorityValue(ids []string, value func(id string) uint64) uint64 {
	if len(ids) == 0 {
		return math.MaxUint64
	}
	vals := make([]uint64, len(ids))
	for i, id := range ids {
		vals[i] = value(id)
	}
	slices.Sort(vals)
	// Sorted ascending: the element at len-majority is held by a majority.
	return vals[len(vals)-(len(vals)/2+1)]
}

// jointValue is majorityValue over C(new) and, while joint, C(old): both
// majorities must agree.
func jointValue(m Membership, value func(id string) uint64) uint64 {
	return min(majorityValue(m.Voters, value), majorityValue(m.Outgoing, value))
}

// hasJointMajority reports whether the ids for which yes is true form a
// majority of C(new) and, while joint, of C(old).
func hasJointMajority(m Membership, yes func(id string) bool) bool {
	v := jointValue(m, func(id string) uint64 {
		if yes(id) {
			return 1
		}
		return 0
	})
	return v >= 1
}
