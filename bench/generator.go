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

// stretch is what n clients doing op measured over one stretch of a phase.
type stretch struct {
	ops          int // counted apart from the latencies, as a cross-check
	workers      []worker
	elapsed, cpu time.Duration
}

// newClients makes n clients, each with its own session.
func (g *generator) newClients(n int) []system.Client {
	clients := make([]system.Client, n)
	for i := range clients {
		clients[i] = g.newClient()
	}
	return clients
}

func closeAll(clients []system.Client) {
	for _, cl := range clients {
		cl.Close()
	}
}

// measure runs the clients doing op for d. Each client sends its next
// request as soon as the last one is answered; the stretch ends when every
// request started before the deadline is answered.
func (g *generator) measure(ctx context.Context, clients []system.Client, op Op, d time.Duration) (stretch, error) {
	var ops atomic.Int64
	workers := make([]worker, len(clients))
	cpu0, err := g.cluster.serverCPU()
	if err != nil {
		return stretch{}, err
	}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range clients {
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
		return stretch{}, err
	}
	if ctx.Err() != nil {
		return stretch{}, ctx.Err()
	}
	return stretch{ops: int(ops.Load()), workers: workers, elapsed: elapsed, cpu: cpu1 - cpu0}, nil
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

// summarize merges the stretches of a phase into its figures.
func summarize(op Op, clients int, stretches []stretch) (Phase, error) {
	p := Phase{Op: op, Clients: clients}
	var (
		lat          []time.Duration
		firstErr     error
		counted, ops int
		elapsed, cpu time.Duration
	)
	for _, st := range stretches {
		ops += st.ops
		elapsed += st.elapsed
		cpu += st.cpu
		for _, w := range st.workers {
			lat = append(lat, w.latencies...)
			p.Errors += w.errors
			counted += w.ops
			if firstErr == nil {
				firstErr = w.firstErr
			}
		}
	}
	p.Ops, p.Seconds, p.ServerCPU = ops, elapsed.Seconds(), Millis(cpu)
	if firstErr != nil {
		p.FirstError = firstErr.Error()
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
