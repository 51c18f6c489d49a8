package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// fillClients is how many clients write every key once before the phases.
const fillClients = 16

// generator is the load generator: closed-loop clients, each with its own
// system client (its own session and connections), sending to addrs.
type generator struct {
	sys     system.System
	cluster *cluster
	addrs   map[string]string
	cfg     Config
	made    atomic.Int64 // clients made so far, for unique session ids
}

// newClient makes one client with a session of its own.
func (g *generator) newClient() system.Client {
	return g.sys.NewClient(g.addrs, system.ClientOptions{
		Timeout:     g.cfg.RequestTimeout,
		ClientID:    fmt.Sprintf("bench-%d", g.made.Add(1)),
		MaxAttempts: 3,
	})
}

func key(i int) string { return fmt.Sprintf("k%d", i) }

// fill writes every key once, so that every read of a phase finds a value.
func (g *generator) fill(ctx context.Context) error {
	var next atomic.Int64
	errs := make([]error, fillClients)
	var wg sync.WaitGroup
	for w := range fillClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := g.newClient()
			defer cl.Close()
			for {
				i := int(next.Add(1)) - 1
				if i >= g.cfg.Keys {
					return
				}
				if _, err := cl.Write(ctx, key(i), i); err != nil {
					errs[w] = fmt.Errorf("key %s: %w", key(i), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// worker is what one client of a phase measured.
type worker struct {
	ops, errors int
	latencies   []time.Duration
	firstErr    error
}

// phase runs n clients doing op for cfg.Duration and measures them. Each
// client sends its next request as soon as the last one is answered; the
// phase ends when every request started before the deadline is answered.
func (g *generator) phase(ctx context.Context, op Op, n int) (Phase, error) {
	clients := make([]system.Client, n)
	for i := range clients {
		clients[i] = g.newClient()
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	var ops atomic.Int64 // counted apart from the latencies, as a cross-check
	workers := make([]worker, n)
	cpu0, err := g.cluster.serverCPU()
	if err != nil {
		return Phase{}, err
	}
	start := time.Now()
	deadline := start.Add(g.cfg.Duration)
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.run(ctx, clients[w], op, w, deadline, &workers[w], &ops)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, err := g.cluster.serverCPU()
	if err != nil {
		return Phase{}, err
	}
	if ctx.Err() != nil {
		return Phase{}, ctx.Err()
	}
	return summarize(op, n, int(ops.Load()), workers, elapsed, cpu1-cpu0)
}

// run is one closed-loop client of a phase.
func (g *generator) run(ctx context.Context, cl system.Client, op Op, w int, deadline time.Time, out *worker, ops *atomic.Int64) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(deadline.UnixNano())))
	for seq := 0; ctx.Err() == nil && time.Now().Before(deadline); seq++ {
		k := key(rng.IntN(g.cfg.Keys))
		t0 := time.Now()
		var err error
		switch op {
		case Write:
			_, err = cl.Write(ctx, k, w*1_000_000+seq)
		case Read:
			_, _, _, err = cl.Read(ctx, k, false)
		}
		if err != nil {
			out.errors++
			if out.firstErr == nil {
				out.firstErr = err
			}
			continue
		}
		out.latencies = append(out.latencies, time.Since(t0))
		out.ops++
		ops.Add(1)
	}
}

// summarize merges the workers of a phase into its figures.
func summarize(op Op, clients, ops int, workers []worker, elapsed, cpu time.Duration) (Phase, error) {
	p := Phase{Op: op, Clients: clients, Ops: ops, Seconds: elapsed.Seconds(), ServerCPU: Millis(cpu)}
	var lat []time.Duration
	var firstErr error
	counted := 0
	for _, w := range workers {
		lat = append(lat, w.latencies...)
		p.Errors += w.errors
		counted += w.ops
		if firstErr == nil {
			firstErr = w.firstErr
		}
	}
	if ops == 0 {
		return p, fmt.Errorf("every operation failed, the first with: %w", firstErr)
	}
	if counted != ops {
		return p, fmt.Errorf("the clients counted %d operations, the phase %d", counted, ops)
	}
	slices.Sort(lat)
	p.Latencies = len(lat)
	p.P50, p.P99 = Millis(percentile(lat, 0.50)), Millis(percentile(lat, 0.99))
	p.PerSecond = float64(ops) / elapsed.Seconds()
	p.ServerCPUPerOp = Millis(cpu / time.Duration(ops))
	return p, nil
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}
