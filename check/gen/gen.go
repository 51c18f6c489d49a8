// Package gen generates linearizable histories by simulating real objects:
// for each key a few concurrent processes run operations against one
// register, set or list, every operation taking effect at a random instant
// inside its own invocation interval. The histories feed the checker's
// soundness tests and its million-operation benchmark. It owns nothing but
// generation: it never checks, and it touches no files or network.
package gen

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/faultline/faultline/history"
)

// Config shapes a generated history.
type Config struct {
	Workload  string // "register" (default), "set" or "append"
	Keys      int    // number of keys (default 1)
	OpsPerKey int    // operations per key (default 100)
	// Processes is how many client processes run concurrently on each key
	// (default 3). A process whose operation ends in info is replaced by a
	// new process number, as the history contract requires.
	Processes int
	// Clients, when positive, makes that many client processes share all
	// the keys instead (see Stream); Processes is then ignored.
	Clients  int
	InfoRate float64 // fraction of operations completing with info
	FailRate float64 // fraction of writes, adds and appends that fail (never applied)
	// ValueRange, when positive, draws register values from [0, ValueRange),
	// so values repeat; 0 makes every written value unique.
	ValueRange int
	// MaxLatency bounds an operation's latency in ns (default 10 ms); the
	// pause between one process's operations is up to half of it.
	MaxLatency int64
	Seed       uint64
}

func (c Config) withDefaults() Config {
	if c.Workload == "" {
		c.Workload = "register"
	}
	if c.Keys <= 0 {
		c.Keys = 1
	}
	if c.OpsPerKey <= 0 {
		c.OpsPerKey = 100
	}
	if c.Processes <= 0 {
		c.Processes = 3
	}
	if c.MaxLatency <= 0 {
		c.MaxLatency = 10_000_000
	}
	return c
}

// simOp is one simulated operation.
type simOp struct {
	process   int
	f         string
	input     any
	output    any
	call, ret int64
	at        int64 // when it takes effect, inside [call, ret]
	outcome   history.Type
	applies   bool // whether it takes effect at all
	node      string
}

// Generate returns a linearizable history in the JSONL contract (events in
// time order, values as Go ints). The same Config gives the same history.
func Generate(cfg Config) ([]history.Event, error) {
	cfg = cfg.withDefaults()
	if err := checkWorkload(cfg.Workload); err != nil {
		return nil, err
	}
	if cfg.Clients > 0 {
		events := make([]history.Event, 0, 2*cfg.Keys*cfg.OpsPerKey)
		err := Stream(cfg, func(e history.Event) error { events = append(events, e); return nil })
		return events, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	nextProcess := 0
	events := make([]history.Event, 0, 2*cfg.Keys*cfg.OpsPerKey)
	for k := range cfg.Keys {
		key := fmt.Sprintf("k%d", k)
		ops := planKey(cfg, rng, &nextProcess)
		apply(cfg.Workload, ops)
		for _, op := range ops {
			invoke, done := op.events(key)
			events = append(events, invoke, done)
		}
	}
	return byTime(events), nil
}

func checkWorkload(workload string) error {
	switch workload {
	case "register", "set", "append":
		return nil
	}
	return fmt.Errorf("gen: unknown workload %q (want register, set or append)", workload)
}

// byTime orders events by time, keeping the order of equal times. It sorts
// small (time, index) pairs rather than moving whole events around.
func byTime(events []history.Event) []history.Event {
	type stamp struct {
		time  int64
		index int
	}
	order := make([]stamp, len(events))
	for i, e := range events {
		order[i] = stamp{e.Time, i}
	}
	slices.SortFunc(order, func(a, b stamp) int {
		if a.time != b.time {
			if a.time < b.time {
				return -1
			}
			return 1
		}
		return a.index - b.index
	})
	sorted := make([]history.Event, len(events))
	for i, s := range order {
		sorted[i] = events[s.index]
	}
	return sorted
}

// planKey lays out the operations of one key: who runs what, when, and how
// each ends (the values read are filled in by apply).
func planKey(cfg Config, rng *rand.Rand, nextProcess *int) []*simOp {
	type proc struct {
		id   int
		free int64 // when its next operation may start
	}
	procs := make([]proc, cfg.Processes)
	for i := range procs {
		procs[i] = proc{id: *nextProcess, free: rng.Int64N(cfg.MaxLatency)}
		*nextProcess++
	}
	ops := make([]*simOp, 0, cfg.OpsPerKey)
	var ks keyState
	for range cfg.OpsPerKey {
		// The process free first runs next, so processes stay concurrent.
		pi := 0
		for i := range procs {
			if procs[i].free < procs[pi].free {
				pi = i
			}
		}
		p := &procs[pi]
		op := drawOp(cfg, rng, p.id, p.free, &ks)
		ops = append(ops, op)
		p.free = op.ret + 1 + rng.Int64N(cfg.MaxLatency/2+1)
		if op.outcome == history.Info {
			p.id = *nextProcess
			*nextProcess++
		}
	}
	return ops
}

// keyState is what drawing operations remembers of one key.
type keyState struct {
	written int // unique values and elements so far
	last    int // the last value planned to be written, for plausible cas
}

// drawOp draws one operation of process on a key, invoked at call: its
// latency, instant of effect, function, value and outcome (what reads
// return and whether a cas swaps are filled in later, by applying).
func drawOp(cfg Config, rng *rand.Rand, process int, call int64, ks *keyState) *simOp {
	ret := call + 1 + rng.Int64N(cfg.MaxLatency)
	op := &simOp{process: process, call: call, ret: ret, at: call + rng.Int64N(ret-call+1),
		outcome: history.Ok, applies: true, node: fmt.Sprintf("n%d", 1+rng.IntN(3))}
	fresh := func() int {
		ks.written++
		if cfg.ValueRange > 0 {
			return rng.IntN(cfg.ValueRange)
		}
		return ks.written
	}
	roll := rng.Float64()
	switch {
	case roll < 0.5:
		op.f = history.FRead
	case cfg.Workload == "set":
		op.f, op.input = history.FAdd, fresh()
	case cfg.Workload == "append":
		op.f, op.input = history.FAppend, fresh()
	case roll < 0.8:
		op.f = history.FWrite
		v := fresh()
		op.input, ks.last = v, v
	default:
		op.f = history.FCas
		v := fresh()
		op.input = []any{ks.last, v}
		ks.last = v
	}
	switch r := rng.Float64(); {
	case r < cfg.InfoRate:
		op.outcome = history.Info
		op.applies = op.f != history.FRead && rng.IntN(2) == 0
	case r < cfg.InfoRate+cfg.FailRate && op.f != history.FRead && op.f != history.FCas:
		op.outcome, op.applies = history.Fail, false
	}
	return op
}

// apply runs the operations against a real object in the order they take
// effect, filling in what reads return and whether each cas swapped.
func apply(workload string, ops []*simOp) {
	order := slices.Clone(ops)
	slices.SortStableFunc(order, func(a, b *simOp) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	obj := newObject(workload)
	for _, op := range order {
		obj.apply(op)
	}
}

// object is the real register, set or list a key holds.
type object struct {
	workload string
	register any // nil: absent
	list     []any
	members  map[any]bool
}

func newObject(workload string) *object { return &object{workload: workload, members: map[any]bool{}} }

// apply lets op take effect now.
func (o *object) apply(op *simOp) {
	switch op.f {
	case history.FRead:
		switch o.workload {
		case "register":
			op.output = o.register
		case "set":
			op.output = sortedInts(o.members)
		default:
			op.output = slices.Clone(o.list)
		}
	case history.FWrite:
		if op.applies {
			o.register = op.input
		}
	case history.FCas:
		pair := op.input.([]any)
		switch {
		case op.outcome == history.Info:
			if op.applies && o.register == pair[0] {
				o.register = pair[1]
			}
		case o.register == pair[0]:
			o.register = pair[1]
		default:
			op.outcome, op.applies = history.Fail, false
		}
	case history.FAdd:
		if op.applies {
			o.members[op.input] = true
		}
	case history.FAppend:
		if op.applies {
			o.list = append(o.list, op.input)
		}
	}
}

func sortedInts(members map[any]bool) []any {
	ints := make([]int, 0, len(members))
	for m := range members {
		ints = append(ints, m.(int))
	}
	slices.Sort(ints)
	out := make([]any, len(ints))
	for i, v := range ints {
		out[i] = v
	}
	return out
}

func (op *simOp) events(key string) (invoke, done history.Event) {
	p := history.Client(op.process)
	invoke = history.Event{Time: op.call, Process: p, Type: history.Invoke, F: op.f, Key: key, Value: op.input}
	done = history.Event{Time: op.ret, Process: p, Type: op.outcome, F: op.f, Key: key, Value: op.input,
		Node: op.node, Latency: op.ret - op.call}
	if op.f == history.FRead {
		done.Value = nil
		if op.outcome == history.Ok {
			done.Value = op.output
		}
	}
	if op.outcome == history.Info {
		done.Error = "timeout"
	}
	return invoke, done
}
