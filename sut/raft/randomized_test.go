package raft

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

var (
	flagSeed  = flag.Int64("seed", -1, "run TestRandomized for this one seed only")
	flagSeeds = flag.Int("seeds", 300, "number of seeds TestRandomized runs")
	flagSteps = flag.Int("steps", 1500, "steps per seed in TestRandomized")
	flagBug   = flag.String("bug", "", "enable this planted bug in TestRandomized (to see the checker catch it)")
)

// TestRandomized drives seeded random clusters through partitions, message
// loss, duplication and reordering, crashes and restarts, membership changes
// and compactions, checking Raft's safety properties after every step, then
// heals everything and requires the cluster to commit again.
func TestRandomized(t *testing.T) {
	first, count := int64(1), *flagSeeds
	if *flagSeed >= 0 {
		first, count = *flagSeed, 1
	}
	if testing.Short() && *flagSeed < 0 {
		count = 50
	}
	for s := first; s < first+int64(count); s++ {
		if err := runRandomized(t, s, *flagSteps); err != "" {
			t.Fatalf("seed %d: %s\nreplay: go test ./sut/raft -run 'TestRandomized$' -seed=%d -v", s, err, s)
		}
	}
}

var runRandomizedHook func(*network)

// randomRun is one seeded run's choices.
type randomRun struct {
	r     *rand.Rand
	net   *network
	spare []string // ids that may join later
	// uniform: in lease mode clocks only advance together, each at its own
	// rate within the drift bound the lease assumes (rate and clock hold
	// each node's rate and fractional tick).
	uniform bool
	rate    map[string]float64
	clock   map[string]float64
	step    int
}

func runRandomized(t *testing.T, seed int64, steps int) (failure string) {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(seed)*0x9e3779b97f4a7c15+1))
	size := 3 + 2*r.IntN(2)
	ids := make([]string, size)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
	}
	mode := ReadIndex
	if r.IntN(3) == 0 {
		mode = ReadLease
	}
	electionTick := 6 + r.IntN(5)
	opts := []netOpt{func(c *Config) {
		c.Seed = seed*10 + int64(c.ID[1]-'0')
		c.ReadMode = mode
		if *flagBug != "" {
			c.Bugs = bugs.Set{*flagBug: true}
		}
		c.MaxClockDrift = 0.2
		c.ElectionTick = electionTick
		if mode != ReadLease {
			// Different timeouts per node stress elections; lease safety
			// needs one shared minimum timeout, as deployments have.
			c.ElectionTick += r.IntN(3)
		}
		c.HeartbeatTick = 1 + r.IntN(2)
		c.MaxEntriesPerMsg = 1 + r.IntN(4)
		c.MaxInflightMsgs = 1 + r.IntN(4)
		c.SnapshotChunkSize = 8 + r.IntN(64)
	}}
	// Failures are reported with the seed rather than by t.Fatal deep inside.
	st := &stopT{TB: t}
	net := newNetwork(st, ids, opts...)
	run := &randomRun{r: r, net: net, uniform: mode == ReadLease, rate: map[string]float64{}, clock: map[string]float64{}}
	for i := size + 1; i <= 7; i++ {
		run.spare = append(run.spare, fmt.Sprintf("n%d", i))
	}
	defer func() {
		if rec := recover(); rec != nil {
			if _, ok := rec.(stopped); !ok {
				panic(rec)
			}
			failure = fmt.Sprintf("step %d: %s\nrecent actions:\n%s\nlogs:\n%s", run.step, st.msg, joinLines(net.trace), net.describe())
		}
	}()
	for run.step = 0; run.step < steps; run.step++ {
		run.randomStep(opts)
	}
	if runRandomizedHook != nil {
		runRandomizedHook(net)
	}
	run.checkRecovers()
	if testing.Verbose() {
		t.Logf("seed %d: maxCommit %d terms-with-leader %d snapshots-installed %d reads ok/dropped %d/%d config entries applied %d voters seen by %s %v",
			seed, net.maxCommit(), len(net.safety.leaderOf), net.stats.snapshots, len(net.readsOK), len(net.dropped), net.stats.configs, net.ids[0], net.nodes[net.ids[0]].node.Membership().Voters)
	}
	return ""
}

func (run *randomRun) randomStep(opts []netOpt) {
	net, r := run.net, run.r
	up := []string{}
	for _, id := range net.ids {
		if net.nodes[id].up {
			up = append(up, id)
		}
	}
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	switch w := r.IntN(100); {
	case w < 35 && len(net.queue) > 0:
		i := r.IntN(len(net.queue))
		m := net.queue[i]
		net.logf("deliver %v %s->%s t%d i%d lt%d n%d c%d rej%v hint%d ctx%d", m.Type, m.From, m.To, m.Term, m.Index, m.LogTerm, len(m.Entries), m.Commit, m.Reject, m.RejectHint, m.Context)
		net.deliver(i)
	case w < 55:
		if run.uniform {
			net.logf("tick all (skewed rates)")
			run.tickSkewed()
		} else if r.IntN(3) == 0 {
			net.logf("tick all")
			net.tickAll()
		} else if len(up) > 0 {
			id := pick(up)
			net.logf("tick %s", id)
			net.tick(id)
		}
	case w < 59 && len(net.queue) > 0:
		i := r.IntN(len(net.queue))
		net.logf("drop %v %s->%s", net.queue[i].Type, net.queue[i].From, net.queue[i].To)
		net.queue = slices.Delete(net.queue, i, i+1)
	case w < 63 && len(net.queue) > 0:
		i := r.IntN(len(net.queue))
		net.logf("duplicate %v %s->%s", net.queue[i].Type, net.queue[i].From, net.queue[i].To)
		net.queue = append(net.queue, net.queue[i])
	case w < 75:
		if ls := net.leaders(); len(ls) > 0 {
			id := pick(ls)
			data := fmt.Sprintf("v%d", run.step)
			if _, _, err := net.node(id).Propose([]byte(data)); err == nil {
				net.logf("propose %s at %s", data, id)
				net.process(id)
			}
		}
	case w < 80 && len(up) > 0:
		id := pick(up)
		if ls := net.leaders(); len(ls) > 0 && r.IntN(5) > 0 {
			id = pick(ls)
		}
		ctx := net.read(id)
		net.logf("read %d at %s", ctx, id)
	case w < 83:
		shuffled := slices.Clone(net.ids)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		k := 1 + r.IntN(len(shuffled)-1)
		net.logf("partition %v | %v", shuffled[:k], shuffled[k:])
		net.partition(shuffled[:k], shuffled[k:])
	case w < 86:
		net.logf("heal")
		net.heal()
	case w < 88 && len(up) > 1:
		id := pick(up)
		net.logf("crash %s", id)
		net.crash(id)
	case w < 92:
		for _, id := range net.ids {
			if !net.nodes[id].up {
				net.logf("restart %s", id)
				net.restart(id)
				net.process(id)
				break
			}
		}
	case w < 95:
		run.changeMembership(opts)
	case w < 98 && len(up) > 0:
		id := pick(up)
		if net.nodes[id].node.log.applied > net.nodes[id].node.log.snapIndex {
			net.logf("compact %s at %d", id, net.nodes[id].node.log.applied)
			if err := net.compact(id); err != nil {
				net.t.Fatalf("compact %s: %v", id, err)
			}
		}
	default:
		if len(net.queue) > 0 {
			net.deliver(0)
		}
	}
	if len(net.queue) > 3000 {
		net.queue = slices.Delete(net.queue, 0, 1000)
	}
}

// tickSkewed advances every clock by one tick of real time: a node whose
// rate is below 1 sometimes skips a tick. Rates stay within 1-MaxClockDrift/2
// of each other, inside the bound the lease allows for.
func (run *randomRun) tickSkewed() {
	for _, id := range run.net.ids {
		rate, ok := run.rate[id]
		if !ok {
			drift := run.net.nodes[id].cfg.MaxClockDrift
			rate = 1 - drift/2*run.r.Float64()
			run.rate[id] = rate
		}
		run.clock[id] += rate
		for run.clock[id] >= 1 {
			run.clock[id]--
			run.net.tick(id)
		}
	}
}

// changeMembership asks a leader to add a spare server or remove a member.
func (run *randomRun) changeMembership(opts []netOpt) {
	net, r := run.net, run.r
	ls := net.leaders()
	if len(ls) == 0 {
		return
	}
	lead := ls[r.IntN(len(ls))]
	m := net.node(lead).Membership()
	var c MembershipChange
	if r.IntN(2) == 0 && len(run.spare) > 0 {
		id := run.spare[0]
		c = MembershipChange{Add: id, Addr: id + ":1"}
	} else if members := m.Members(); len(members) > 0 {
		c = MembershipChange{Remove: members[r.IntN(len(members))]}
	}
	err := net.node(lead).ProposeMembership(c)
	net.logf("membership %+v at %s: %v", c, lead, err)
	if err != nil {
		return
	}
	if c.Add != "" && net.nodes[c.Add] == nil {
		run.spare = run.spare[1:]
		net.addNode(c.Add, Membership{}, opts...)
	}
	net.process(lead)
}

// checkRecovers heals every fault and requires a leader to commit a new entry.
func (run *randomRun) checkRecovers() {
	net := run.net
	net.heal()
	for _, id := range net.ids {
		if !net.nodes[id].up {
			net.restart(id)
		}
	}
	var target uint64
	var lead string
	for round := 0; round < 600; round++ {
		net.tickAll()
		net.deliverAll()
		if target == 0 {
			if ls := net.leaders(); len(ls) == 1 && net.node(ls[0]).committedInTerm() {
				lead = ls[0]
				idx, _, err := net.node(lead).Propose([]byte("final"))
				if err == nil {
					target = idx
					net.process(lead)
				}
			}
			continue
		}
		if n := net.nodes[lead]; n.up && n.node.log.committed >= target {
			return
		}
		if len(net.leaders()) == 1 && net.leaders()[0] != lead {
			target = 0 // leadership moved; try again with the new leader
		}
	}
	net.t.Fatalf("no progress after healing: leaders %v\n%s", net.leaders(), net.describe())
}

// stopT turns Fatal inside the harness into a panic the run recovers, so the
// failure is reported with its seed.
type stopT struct {
	testing.TB
	msg string
}

type stopped struct{}

func (s *stopT) Fatalf(format string, args ...any) {
	s.msg = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func (s *stopT) Helper() {}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines[max(0, len(lines)-60):] {
		out += l + "\n"
	}
	return out
}
