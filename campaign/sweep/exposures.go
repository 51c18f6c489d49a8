package sweep

import (
	"time"

	"github.com/faultline/faultline/sut/bugs"
)

// Exposure is the fault mix and workload that makes a bug visible.
type Exposure struct {
	Nemesis  string // a --nemesis spec, as for `checker run --nemesis`
	Workload string // register, set or append
	ReadMode string // raftd --read-mode
	Read     string // client read style: "" (linearizable) or "local"
	// Keys, Concurrency and Interval, when set, replace the campaign's
	// --keys, --concurrency and --interval: fewer keys and more clients put
	// more reads on the key of each stale or lost write, a shorter interval
	// makes more leader changes per minute.
	Keys        int
	Concurrency int
	Interval    time.Duration
	// Nodes, when set, replaces --nodes: some bugs need a cluster small
	// enough that one lagging follower is enough to elect a leader.
	Nodes int
	// Rate, when set, replaces --rate (operations per second over all
	// clients): an open-loop rate keeps a disruption from hiding behind
	// fewer, slower operations, so availability measures it.
	Rate float64
	// MaxClockDrift, when set, replaces --max-clock-drift: raftd's drift
	// bound, which also bounds the clock nemesis' rate skew. A wider bound
	// lets the nemesis skew clocks further while a correct lease stays safe.
	MaxClockDrift float64
	// RequestTimeout, when set, replaces --request-timeout: a short one keeps
	// clients from waiting out a deposed leader, so reads reach it while its
	// lease is (wrongly) still held.
	RequestTimeout time.Duration
}

// Exposures pairs each planted bug of sut/bugs with the campaign that
// exposes it: the sweep runs each bug under its exposure, and `checker bugs`
// prints it as a command line. A bug added to sut/bugs gets its line here.
var Exposures = map[string]Exposure{
	bugs.StaleLocalRead:        {Nemesis: "partition", Workload: "register", ReadMode: "readindex"},
	bugs.LeaseIgnoresDrift:     {Nemesis: "clock:skew-isolate-leader", Workload: "register", ReadMode: "lease", Keys: 3, Interval: 2 * time.Second, MaxClockDrift: 0.8, RequestTimeout: 250 * time.Millisecond},
	bugs.ReadBeforeNoop:        {Nemesis: "slow:net-isolate-leader", Workload: "register", ReadMode: "readindex", Keys: 2, Concurrency: 20, Interval: 2 * time.Second},
	bugs.AckBeforeCommit:       {Nemesis: "partition,kill", Workload: "append", ReadMode: "readindex", Interval: 3 * time.Second},
	bugs.VoteIgnoresLog:        {Nemesis: "partition:lag-isolate-leader", Workload: "append", ReadMode: "readindex", Nodes: 3, Keys: 3, Interval: 1500 * time.Millisecond},
	bugs.CommitPreviousTerm:    {Nemesis: "partition,kill", Workload: "append", ReadMode: "readindex", Interval: 2 * time.Second},
	bugs.NoDedup:               {Nemesis: "partition,pause", Workload: "append", ReadMode: "readindex"},
	bugs.SingleStepMembership:  {Nemesis: "membership:swap-partition", Workload: "append", ReadMode: "readindex", Interval: 3 * time.Second},
	bugs.FollowerReadNoWait:    {Nemesis: "slow:apply-isolate-leader", Workload: "register", ReadMode: "readindex", Keys: 2, Concurrency: 20, Interval: 2 * time.Second},
	bugs.RemovedServerDisrupts: {Nemesis: "membership:replace,membership:swap", Workload: "append", ReadMode: "readindex", Concurrency: 40, Rate: 200, Interval: 3 * time.Second},
	bugs.AckBeforeFsync:        {Nemesis: "power:all,power:majority", Workload: "append", ReadMode: "readindex", Interval: 3 * time.Second},
}

// ExposureOf returns the exposure of the named bug.
func ExposureOf(bug string) (Exposure, bool) {
	e, ok := Exposures[bug]
	return e, ok
}
