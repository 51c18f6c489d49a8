package gen

import (
	"container/heap"
	"fmt"
	"math/rand/v2"

	"github.com/faultline/faultline/history"
)

// Stream generates a history in which Clients client processes share the
// keys, as a campaign's workers do: each operation goes to a key drawn at
// random, and Keys×OpsPerKey operations are generated in all. Events reach
// emit in time order as they are generated, so a history of any length
// takes memory only for the operations in flight. cfg.Processes is
// ignored. The same Config gives the same history.
func Stream(cfg Config, emit func(history.Event) error) error {
	cfg = cfg.withDefaults()
	if cfg.Clients <= 0 {
		return fmt.Errorf("gen: Stream needs Clients > 0")
	}
	if err := checkWorkload(cfg.Workload); err != nil {
		return err
	}
	s := &streamer{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), emit: emit,
		keys: make([]streamKey, cfg.Keys)}
	for i := range s.keys {
		s.keys[i] = streamKey{name: fmt.Sprintf("k%d", i), obj: newObject(cfg.Workload)}
	}
	clients := make([]streamClient, cfg.Clients)
	for i := range clients {
		clients[i] = streamClient{id: i, free: s.rng.Int64N(cfg.MaxLatency)}
	}
	next := cfg.Clients
	for range cfg.Keys * cfg.OpsPerKey {
		c := &clients[0]
		for i := range clients {
			if clients[i].free < c.free {
				c = &clients[i]
			}
		}
		if err := s.completeUntil(c.free); err != nil {
			return err
		}
		k := s.rng.IntN(cfg.Keys)
		op := drawOp(cfg, s.rng, c.id, c.free, &s.keys[k].ks)
		if err := s.invoke(k, op); err != nil {
			return err
		}
		c.free = op.ret + 1 + s.rng.Int64N(cfg.MaxLatency/2+1)
		if op.outcome == history.Info {
			c.id = next
			next++
		}
	}
	return s.completeUntil(1<<63 - 1)
}

type streamClient struct {
	id   int
	free int64 // when its next operation may start
}

type streamKey struct {
	name string
	ks   keyState
	obj  *object
}

// streamer holds the operations in flight: those whose effect has not been
// applied yet (by instant of effect) and those not completed yet (by
// completion time).
type streamer struct {
	cfg     Config
	rng     *rand.Rand
	emit    func(history.Event) error
	keys    []streamKey
	seq     int
	effects opHeap // by at
	pending opHeap // by ret
}

type flight struct {
	op  *simOp
	key int
	seq int
	at  int64 // the heap's order: op.at or op.ret
}

type opHeap []flight

func (h opHeap) Len() int { return len(h) }
func (h opHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h opHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *opHeap) Push(x any)   { *h = append(*h, x.(flight)) }
func (h *opHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (s *streamer) invoke(key int, op *simOp) error {
	s.seq++
	heap.Push(&s.effects, flight{op: op, key: key, seq: s.seq, at: op.at})
	heap.Push(&s.pending, flight{op: op, key: key, seq: s.seq, at: op.ret})
	invoke, _ := op.events(s.keys[key].name)
	return s.emit(invoke)
}

// completeUntil emits the completions due by t. Before a completion at
// time r, every effect up to r is applied: all of those operations were
// invoked by then, so what a read returns is final.
func (s *streamer) completeUntil(t int64) error {
	for len(s.pending) > 0 && s.pending[0].at <= t {
		f := heap.Pop(&s.pending).(flight)
		for len(s.effects) > 0 && s.effects[0].at <= f.at {
			e := heap.Pop(&s.effects).(flight)
			s.keys[e.key].obj.apply(e.op)
		}
		_, done := f.op.events(s.keys[f.key].name)
		if err := s.emit(done); err != nil {
			return err
		}
	}
	return nil
}
