package workload

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/faultline/faultline/history"
)

// Op is one operation a generator asks a client to perform.
type Op struct {
	F   string // history.FRead, FWrite, FCas, FAdd or FAppend
	Key string
	// Value is nil for reads, the unique int64 element for write, add and
	// append, and []any{expect, new} for cas.
	Value any
}

// Generator hands out operations, Jepsen style: it decides what to do, the
// clients decide nothing. It is fed back the outcome of every operation so
// that cas can expect values that were really there. Safe for concurrent use;
// for one seed the sequence of Next results is reproducible as long as the
// same outcomes are observed in the same order.
type Generator interface {
	Next() Op
	// Observe reports the completion of op: its type (ok, fail or info)
	// and, for an ok read, the value read.
	Observe(op Op, outcome history.Type, value any)
}

// readPercent is the share of reads in every workload: half reads keeps
// stale reads visible while writes keep the state moving.
const readPercent = 50

// recentPerKey is how many recently seen values per key a cas may expect.
// Few enough that cas often succeeds, more than one so it also often fails.
const recentPerKey = 3

// NewGenerator returns the generator of a workload over keys k0..k{keys-1}.
func NewGenerator(workload string, keys int, seed int64) (Generator, error) {
	switch workload {
	case Register, Set, Append:
	default:
		return nil, fmt.Errorf("--workload must be one of register, set, append; got %q", workload)
	}
	if keys < 1 {
		return nil, fmt.Errorf("--keys must be >= 1, got %d", keys)
	}
	return &generator{
		workload: workload,
		keys:     keys,
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		recent:   make(map[string][]any),
	}, nil
}

type generator struct {
	workload string
	keys     int

	mu      sync.Mutex
	rng     *rand.Rand
	counter int64            // last unique value handed out; values start at 1
	recent  map[string][]any // register: values recently seen per key, newest last
}

// unique returns a value never handed out before in this run. One counter
// for every key and process makes each written value, added or appended
// element identify exactly one invocation, which is what lets the checker
// name the write a read observed.
func (g *generator) unique() int64 {
	g.counter++
	return g.counter
}

func (g *generator) Next() Op {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := keyName(g.rng.IntN(g.keys))
	if g.rng.IntN(100) < readPercent {
		return Op{F: history.FRead, Key: key}
	}
	switch g.workload {
	case Set:
		return Op{F: history.FAdd, Key: key, Value: g.unique()}
	case Append:
		return Op{F: history.FAppend, Key: key, Value: g.unique()}
	}
	recent := g.recent[key]
	if len(recent) > 0 && g.rng.IntN(2) == 0 {
		expect := recent[g.rng.IntN(len(recent))]
		return Op{F: history.FCas, Key: key, Value: []any{expect, g.unique()}}
	}
	return Op{F: history.FWrite, Key: key, Value: g.unique()}
}

func (g *generator) Observe(op Op, outcome history.Type, value any) {
	if g.workload != Register {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case op.F == history.FRead && outcome == history.Ok && value != nil:
		g.remember(op.Key, value)
	case op.F == history.FWrite && outcome != history.Fail:
		// An indeterminate write may well have happened: worth expecting.
		g.remember(op.Key, op.Value)
	case op.F == history.FCas && outcome == history.Ok:
		if pair, ok := op.Value.([]any); ok && len(pair) == 2 {
			g.remember(op.Key, pair[1])
		}
	}
}

func (g *generator) remember(key string, v any) {
	v = normalizeValue(v)
	want := history.ValueKey(v)
	vals := g.recent[key]
	for i, old := range vals {
		if history.ValueKey(old) == want {
			vals = append(vals[:i], vals[i+1:]...)
			break
		}
	}
	vals = append(vals, v)
	if len(vals) > recentPerKey {
		vals = vals[len(vals)-recentPerKey:]
	}
	g.recent[key] = vals
}
