// Package bugs owns the catalogue of planted bugs in raftd: each bug's name,
// what is wrong, which fault exposes it and what a client sees. It holds data
// only; the bugs themselves are small marked branches in sut/raft, sut/kv and
// sut/server, each guarded by Set.Has. The campaign settings that expose each
// bug are the checker's business: campaign/sweep owns them (exposures.go).
package bugs

import (
	"fmt"
	"sort"
	"strings"
)

// Bug describes one planted bug.
type Bug struct {
	Name       string
	What       string // what is wrong
	Exposed    string // which fault exposes it
	ClientSees string // what a client observes
	// Liveness bugs cost availability only; the sweep judges them by
	// availability, not by linearizability.
	Liveness bool
}

// Catalogue lists every planted bug, in a stable order.
var Catalogue = []Bug{
	{Name: "stale-local-read", What: "reads are served from local state with no leadership check",
		Exposed: "partition isolating the leader", ClientSees: "stale reads: a read misses an acknowledged write"},
	{Name: "lease-ignores-drift", What: "the lease length trusts the node's own clock rate and ignores --max-clock-drift",
		Exposed: "clock rate skew plus a partition isolating the leader (the clock nemesis' skew-isolate-leader)", ClientSees: "stale reads served under an expired lease"},
	{Name: "read-before-noop", What: "ReadIndex is served before the leader has committed an entry of its term",
		Exposed: "a leader change on a slow network, whose last commit index dies in flight (the slow nemesis' net-isolate-leader)", ClientSees: "stale reads right after an election"},
	{Name: "ack-before-commit", What: "writes are acknowledged once appended to the leader's local log",
		Exposed: "a crash of the leader, or a partition isolating it", ClientSees: "lost commits: acknowledged writes vanish after healing"},
	{Name: "vote-ignores-log", What: "votes are granted without the log up-to-date check",
		Exposed: "a leader isolated in two steps, so that a follower misses only its newest commits (the partition nemesis' lag-isolate-leader)", ClientSees: "lost commits and stale reads"},
	{Name: "commit-previous-term", What: "replicas are counted for entries of earlier terms (Figure 8)",
		Exposed:    "repeated leader changes (Figure 8); in raftd no fault shows it to a client, because the no-op at term start commits the early entry legitimately before any read or acknowledgement depends on it",
		ClientSees: "nothing wrong; a follower that learned the early commit refuses the next leader's appends and wedges (sut/raft's Figure 8 test shows the overwrite)"},
	{Name: "no-dedup", What: "retried writes are applied twice",
		Exposed: "partitions and pauses that make clients retry", ClientSees: "duplicate elements in append lists"},
	{Name: "single-step-membership", What: "configurations switch from C(old) to C(new) directly, with no joint phase",
		Exposed: "a voter swapped for a fresh node in one change, with the leader and a majority of C(new) cut off from a majority of C(old) (the membership nemesis' swap-partition)", ClientSees: "two leaders committing at once: lost commits and stale reads"},
	{Name: "follower-read-no-wait", What: "a read is answered before applied >= read index",
		Exposed: "a new leader whose state machine lags behind its log (the slow nemesis' apply-isolate-leader)", ClientSees: "stale reads"},
	{Name: "removed-server-disrupts", What: "RequestVote from removed servers is not ignored within the minimum election timeout",
		Exposed: "removing nodes (membership churn)", ClientSees: "unavailability: repeated elections, failed requests",
		Liveness: true},
	{Name: "ack-before-fsync", What: "the WAL writes entries and votes without fsync and acknowledges them as durable; it syncs only when it rotates a segment",
		Exposed: "a power failure of a majority or of every node at once (the power nemesis); a crash (kill) keeps the page cache and shows nothing", ClientSees: "lost commits: acknowledged writes vanish after the power comes back"},
}

// Lookup returns the bug with that name.
func Lookup(name string) (Bug, bool) {
	for _, b := range Catalogue {
		if b.Name == name {
			return b, true
		}
	}
	return Bug{}, false
}

// Names lists every bug name in catalogue order.
func Names() []string {
	out := make([]string, len(Catalogue))
	for i, b := range Catalogue {
		out[i] = b.Name
	}
	return out
}

// Set is a set of enabled bugs. The zero value enables none.
type Set map[string]bool

// Parse builds a Set from names, refusing unknown ones.
func Parse(names []string) (Set, error) {
	s := Set{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := Lookup(n); !ok {
			return nil, fmt.Errorf("unknown bug %q (known: %s)", n, strings.Join(Names(), ", "))
		}
		s[n] = true
	}
	return s, nil
}

// Has reports whether the named bug is enabled.
func (s Set) Has(name string) bool { return s[name] }

// List returns the enabled names, sorted.
func (s Set) List() []string {
	out := make([]string, 0, len(s))
	for n, on := range s {
		if on {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Bug names, for the guarded branches.
const (
	StaleLocalRead        = "stale-local-read"
	LeaseIgnoresDrift     = "lease-ignores-drift"
	ReadBeforeNoop        = "read-before-noop"
	AckBeforeCommit       = "ack-before-commit"
	VoteIgnoresLog        = "vote-ignores-log"
	CommitPreviousTerm    = "commit-previous-term"
	NoDedup               = "no-dedup"
	SingleStepMembership  = "single-step-membership"
	FollowerReadNoWait    = "follower-read-no-wait"
	RemovedServerDisrupts = "removed-server-disrupts"
	AckBeforeFsync        = "ack-before-fsync"
)
