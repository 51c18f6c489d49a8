package server

import (
	"testing"

	"github.com/faultline/faultline/sut/raft"
)

// A replacement answers only once C(new) holds the new server as a voter and
// no longer holds the old one: not at the learner step, not while joint.
func TestChangeDoneForReplacement(t *testing.T) {
	done := changeDone(raft.MembershipChange{Add: "n4", Addr: "a:1", Remove: "n3"})
	for _, tc := range []struct {
		name string
		m    raft.Membership
		want bool
	}{
		{"learner step", raft.Membership{Voters: []string{"n1", "n2", "n3"}, Learners: []string{"n4"}}, false},
		{"joint", raft.Membership{Voters: []string{"n1", "n2", "n4"}, Outgoing: []string{"n1", "n2", "n3"}}, false},
		{"added, not removed", raft.Membership{Voters: []string{"n1", "n2", "n3", "n4"}}, false},
		{"C(new)", raft.Membership{Voters: []string{"n1", "n2", "n4"}}, true},
	} {
		if got := done(tc.m); got != tc.want {
			t.Errorf("%s: done = %v, want %v", tc.name, got, tc.want)
		}
	}
}
