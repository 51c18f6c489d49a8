package raft

import (
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// This file is the in-memory test network: nodes that persist, send, apply
// and advance exactly as the server does, a message queue that can be
// partitioned, dropped, duplicated and reordered, crashes that keep only the
// durable state, and a safety checker run after every step.

// testNode is one simulated server: the core, its durable state (what a WAL
// would hold) and its state machine (the applied entries).
type testNode struct {
	id   string
	cfg  Config // template for restarts (durable fields filled on restart)
	node *RawNode
	up   bool

	hs   HardState
	snap *Snapshot
	ents []Entry

	applied  []string // applied[i] describes the entry at index i+1
	wasLead  bool
	leadTerm uint64
}

var flagTrace = flag.Bool("rafttrace", false, "print every action and every log (debugging a seed)")

type network struct {
	t      testing.TB
	nodes  map[string]*testNode
	ids    []string // creation order
	queue  []Message
	cut    map[[2]string]bool // directed links that drop messages
	safety *safety
	// reads: ctx -> minimum index a linearizable read invoked then must see.
	readMin map[uint64]uint64
	readsOK map[uint64]ReadState
	dropped map[uint64]bool
	nextCtx uint64
	// lenient: violations are recorded but do not fail the test (planted
	// bug demonstrations assert on them instead).
	lenient bool
	trace   []string
	stats   struct{ snapshots, configs int }
	// highCommit is the highest commit index any server ever reached: what
	// a client may have seen acknowledged.
	highCommit uint64
}

// netOpt customises every node's Config.
type netOpt func(*Config)

func newNetwork(t testing.TB, ids []string, opts ...netOpt) *network {
	net := &network{
		t: t, nodes: map[string]*testNode{}, cut: map[[2]string]bool{},
		safety: newSafety(), readMin: map[uint64]uint64{}, readsOK: map[uint64]ReadState{},
		dropped: map[uint64]bool{},
	}
	boot := Membership{Voters: slices.Clone(ids), Addrs: map[string]string{}}
	for _, id := range ids {
		boot.Addrs[id] = id + ":1"
	}
	for _, id := range ids {
		net.addNode(id, boot, opts...)
	}
	return net
}

// addNode starts a node with the given bootstrap configuration (empty for a
// server that joins a running cluster).
func (net *network) addNode(id string, boot Membership, opts ...netOpt) *testNode {
	cfg := Config{ID: id, ElectionTick: 10, HeartbeatTick: 2, Seed: int64(len(net.nodes) + 1), Bootstrap: boot.Clone()}
	for _, o := range opts {
		o(&cfg)
	}
	tn := &testNode{id: id, cfg: cfg}
	net.nodes[id] = tn
	net.ids = append(net.ids, id)
	net.start(tn)
	return tn
}

// start builds the core from the node's durable state, like a (re)started
// server reading its WAL.
func (net *network) start(tn *testNode) {
	cfg := tn.cfg
	cfg.HardState = tn.hs
	cfg.Snapshot = tn.snap
	cfg.Entries = slices.Clone(tn.ents)
	n, err := NewRawNode(cfg)
	if err != nil {
		net.t.Fatalf("restart %s: %v", tn.id, err)
	}
	tn.node, tn.up = n, true
	tn.applied = nil
	if tn.snap != nil {
		tn.applied = decodeApplied(tn.snap.Data)
	}
	tn.wasLead = false
}

func (net *network) node(id string) *RawNode { return net.nodes[id].node }

func (net *network) logf(format string, args ...any) {
	net.trace = append(net.trace, fmt.Sprintf(format, args...))
	if *flagTrace {
		fmt.Println(net.trace[len(net.trace)-1])
		fmt.Print(net.describe())
	}
	if len(net.trace) > 400 {
		net.trace = net.trace[len(net.trace)-200:]
	}
}

// ---- the server loop ----

// process runs one node's Ready loop until it has nothing left to do.
func (net *network) process(id string) {
	tn := net.nodes[id]
	if !tn.up {
		return
	}
	for i := 0; tn.node.HasReady(); i++ {
		if i > 1000 {
			net.t.Fatalf("%s: Ready loop does not settle", id)
		}
		rd := tn.node.Ready()
		// 1. persist
		if rd.Snapshot != nil {
			tn.snap = rd.Snapshot
			tn.ents = nil
		}
		if len(rd.Entries) > 0 {
			first := rd.Entries[0].Index
			k := 0
			for k < len(tn.ents) && tn.ents[k].Index < first {
				k++
			}
			tn.ents = append(tn.ents[:k:k], rd.Entries...)
			net.safety.checkAppended(net, tn, rd.Entries)
		}
		if !rd.HardState.IsEmpty() {
			tn.hs = rd.HardState
		}
		// 2. send
		for _, m := range rd.Messages {
			net.send(m)
		}
		// 3. apply
		if rd.Snapshot != nil {
			tn.applied = decodeApplied(rd.Snapshot.Data)
			net.stats.snapshots++
			net.safety.checkSnapshotApplied(net, tn)
		}
		for _, e := range rd.CommittedEntries {
			if e.Index != uint64(len(tn.applied))+1 {
				net.violation("%s: applied index %d after %d (gap or repeat)", id, e.Index, len(tn.applied))
				continue
			}
			tn.applied = append(tn.applied, entryKey(e))
			if e.Type == EntryConfig {
				net.stats.configs++
			}
			net.safety.checkApplied(net, tn, e)
		}
		// 4. reads
		for _, rs := range rd.ReadStates {
			net.readReleased(id, rs)
		}
		for _, ctx := range rd.DroppedReads {
			net.dropped[ctx] = true
		}
		tn.node.Advance(rd)
	}
	net.highCommit = max(net.highCommit, tn.node.log.committed)
	net.safety.checkRoles(net, tn)
}

func (net *network) processAll() {
	for _, id := range net.ids {
		net.process(id)
	}
}

func (net *network) send(m Message) {
	if net.cut[[2]string{m.From, m.To}] {
		return
	}
	net.queue = append(net.queue, m)
}

// deliver hands queued message i to its recipient and runs its Ready loop.
func (net *network) deliver(i int) {
	m := net.queue[i]
	net.queue = slices.Delete(net.queue, i, i+1)
	tn := net.nodes[m.To]
	if tn == nil || !tn.up || net.cut[[2]string{m.From, m.To}] {
		return
	}
	if err := tn.node.Step(m); err != nil {
		net.t.Fatalf("step %s: %v", m.To, err)
	}
	net.process(m.To)
}

// deliverAll delivers in order until the network is quiet.
func (net *network) deliverAll() {
	net.processAll()
	for i := 0; len(net.queue) > 0; i++ {
		if i > 100000 {
			net.t.Fatalf("network does not quiesce")
		}
		net.deliver(0)
	}
}

// deliverUntil delivers in order until cond holds (or the network is quiet);
// it reports whether cond held.
func (net *network) deliverUntil(cond func() bool) bool {
	net.processAll()
	for len(net.queue) > 0 {
		if cond() {
			return true
		}
		net.deliver(0)
	}
	return cond()
}

func (net *network) tick(id string) {
	if tn := net.nodes[id]; tn.up {
		tn.node.Tick()
		net.process(id)
	}
}

func (net *network) tickAll() {
	for _, id := range net.ids {
		net.tick(id)
	}
}

// tickUntil ticks only id (and delivers) until cond holds, at most limit ticks.
func (net *network) tickUntil(id string, limit int, cond func() bool) bool {
	for i := 0; i < limit; i++ {
		if cond() {
			return true
		}
		net.tick(id)
		net.deliverAll()
	}
	return cond()
}

// ---- faults ----

// isolate cuts every link to and from id.
func (net *network) isolate(id string) {
	for _, other := range net.ids {
		if other != id {
			net.cut[[2]string{id, other}] = true
			net.cut[[2]string{other, id}] = true
		}
	}
}

// partition splits the nodes into groups that only talk inside themselves.
func (net *network) partition(groups ...[]string) {
	net.heal()
	group := map[string]int{}
	for gi, g := range groups {
		for _, id := range g {
			group[id] = gi + 1
		}
	}
	for _, a := range net.ids {
		for _, b := range net.ids {
			if a != b && group[a] != group[b] {
				net.cut[[2]string{a, b}] = true
			}
		}
	}
}

func (net *network) heal() { net.cut = map[[2]string]bool{} }

// crash stops a node: only its durable state survives.
func (net *network) crash(id string) {
	tn := net.nodes[id]
	tn.up = false
	tn.node = nil
}

func (net *network) restart(id string) { net.start(net.nodes[id]) }

// ---- client operations ----

func (net *network) propose(id, data string) uint64 {
	idx, _, err := net.node(id).Propose([]byte(data))
	if err != nil {
		net.t.Fatalf("propose at %s: %v", id, err)
	}
	net.process(id)
	return idx
}

// campaign makes id start an election now (as if its timer fired).
func (net *network) campaign(id string) {
	net.node(id).campaign()
	net.process(id)
}

// elect makes id campaign and delivers until the network is quiet.
func (net *network) elect(id string) {
	net.campaign(id)
	net.deliverAll()
	if net.node(id).role != Leader {
		net.t.Fatalf("%s did not become leader (role %v, term %d)", id, net.node(id).role, net.node(id).term)
	}
}

// read starts a linearizable read at id; it returns the read's ctx.
func (net *network) read(id string) uint64 {
	net.nextCtx++
	ctx := net.nextCtx
	net.readMin[ctx] = net.highCommit
	net.node(id).ReadIndex(ctx)
	net.process(id)
	return ctx
}

// readReleased checks a released read against what was committed when the
// read was invoked: a linearizable read sees at least that.
func (net *network) readReleased(id string, rs ReadState) {
	net.readsOK[rs.RequestCtx] = rs
	if want, ok := net.readMin[rs.RequestCtx]; ok && rs.Index < want {
		net.violation("stale read: %s released read %d at index %d, but index %d was committed when it was invoked", id, rs.RequestCtx, rs.Index, want)
	}
}

func (net *network) maxCommit() uint64 {
	var c uint64
	for _, tn := range net.nodes {
		if tn.up {
			c = max(c, tn.node.log.committed)
		}
	}
	return c
}

// leaders returns the up nodes that believe they lead, sorted.
func (net *network) leaders() []string {
	var out []string
	for _, id := range net.ids {
		if tn := net.nodes[id]; tn.up && tn.node.role == Leader {
			out = append(out, id)
		}
	}
	return out
}

func (net *network) violation(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	net.safety.violations = append(net.safety.violations, msg)
	if !net.lenient {
		net.t.Helper()
		net.t.Fatalf("SAFETY VIOLATION: %s\nrecent trace:\n%s", msg, strings.Join(net.trace, "\n"))
	}
}

// ---- state machine encoding ----

func entryKey(e Entry) string {
	return fmt.Sprintf("%d/%d/%s", e.Term, e.Type, e.Data)
}

func encodeApplied(applied []string) []byte {
	b, _ := json.Marshal(applied)
	return b
}

func decodeApplied(data []byte) []string {
	var out []string
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

// compact snapshots id's state machine at its applied index, as the server does.
func (net *network) compact(id string) error {
	tn := net.nodes[id]
	idx := tn.node.log.applied
	if err := tn.node.Compact(idx, encodeApplied(tn.applied[:idx])); err != nil {
		return err
	}
	tn.snap = tn.node.LatestSnapshot()
	k := 0
	for k < len(tn.ents) && tn.ents[k].Index <= idx {
		k++
	}
	tn.ents = slices.Clone(tn.ents[k:])
	return nil
}

// appliedData returns the client payloads a node applied, in order.
func (tn *testNode) appliedData() []string {
	var out []string
	for _, k := range tn.applied {
		parts := strings.SplitN(k, "/", 3)
		if parts[1] == fmt.Sprint(uint8(EntryNormal)) {
			out = append(out, parts[2])
		}
	}
	return out
}

// describe prints every node's log like the paper's figures: one line per
// server, one "term:data" cell per index.
func (net *network) describe() string {
	var b strings.Builder
	ids := slices.Clone(net.ids)
	sort.Strings(ids)
	for _, id := range ids {
		tn := net.nodes[id]
		if !tn.up {
			fmt.Fprintf(&b, "%s: down\n", id)
			continue
		}
		n := tn.node
		fmt.Fprintf(&b, "%s (%v t%d c%d s%d cfg%d):", id, n.role, n.term, n.log.committed, n.log.snapIndex, n.configIndex)
		for _, e := range n.log.entries {
			if e.Type == EntryConfig {
				m, _ := DecodeMembership(e.Data)
				fmt.Fprintf(&b, " %d:cfg%v%v%v", e.Term, m.Voters, m.Outgoing, m.Learners)
				continue
			}
			fmt.Fprintf(&b, " %d:%s", e.Term, e.Data)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ---- scenario helpers ----

// load replaces id's durable state with a log whose entries have the given
// terms (index 1 first) and restarts it, the way the paper's figures start
// from given logs. Entries up to commit are marked committed.
func (net *network) load(id string, term, commit uint64, terms ...uint64) {
	tn := net.nodes[id]
	tn.ents = nil
	for i, t := range terms {
		tn.ents = append(tn.ents, Entry{Term: t, Index: uint64(i + 1), Type: EntryNormal, Data: []byte(fmt.Sprintf("t%d@%d", t, i+1))})
	}
	tn.hs = HardState{Term: term, Commit: commit}
	tn.snap = nil
	net.start(tn)
	tn.node.restartQuiet = false
	for i, e := range tn.ents {
		var prev uint64
		if i > 0 {
			prev = tn.ents[i-1].Term
		}
		net.safety.entryAt[[2]uint64{e.Index, e.Term}] = logFact{key: entryKey(e), prevTerm: prev}
	}
	net.process(id)
}

// forgetLeader lets a minimum election timeout pass on ids without them
// timing out themselves: they stop ignoring vote requests.
func (net *network) forgetLeader(ids ...string) {
	for _, id := range ids {
		n := net.node(id)
		n.electionElapsed = n.cfg.ElectionTick
		// Keep the timeouts random, so the servers do not all fire at once.
		n.randomizedTimeout = n.cfg.ElectionTick + 1 + n.rand.IntN(n.cfg.ElectionTick)
		n.restartQuiet = false
	}
}

// deliverWhere delivers, in order, only the queued messages keep accepts,
// until none is left; the others stay queued.
func (net *network) deliverWhere(keep func(Message) bool) {
	for {
		i := slices.IndexFunc(net.queue, keep)
		if i < 0 {
			return
		}
		net.deliver(i)
	}
}

// dropWhere removes queued messages (lost in the network).
func (net *network) dropWhere(drop func(Message) bool) {
	net.queue = slices.DeleteFunc(net.queue, drop)
}

// logTerms lists the terms of id's log entries after its snapshot.
func (net *network) logTerms(id string) []uint64 {
	var out []uint64
	for _, e := range net.node(id).log.entries {
		out = append(out, e.Term)
	}
	return out
}

// withBugs enables planted bugs on every node.
func withBugs(names ...string) netOpt {
	return func(c *Config) {
		c.Bugs = map[string]bool{}
		for _, n := range names {
			c.Bugs[n] = true
		}
	}
}

// bugIf is the options of a network whose nodes carry the planted bug name
// when on is set, and none otherwise.
func bugIf(on bool, name string) []netOpt {
	if !on {
		return nil
	}
	return []netOpt{withBugs(name)}
}

// heartbeat lets leader's heartbeat interval pass and delivers the round.
func (net *network) heartbeat(leader string) {
	for i := 0; i < net.node(leader).cfg.HeartbeatTick; i++ {
		net.tick(leader)
	}
	net.deliverAll()
}
