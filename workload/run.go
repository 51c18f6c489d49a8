package workload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/system"
)

// clientAttempts bounds how many times one operation is tried on another
// node after a definite failure (no leader, unreachable). Config.Timeout
// bounds each attempt; opBudget bounds the whole operation.
const clientAttempts = 3

// clientResends is how many times an attempt with an unknown outcome (a
// timeout, a broken connection) is sent again, with the same X-Seq, before
// the operation is recorded as info. On a server that honours sessions the
// write still applies at most once, and fewer operations end unknown, which
// keeps the check tractable; on one that does not (the no-dedup bug) the
// re-sent write applies twice, and the append workload sees the duplicate.
const clientResends = 1

// opBudget is the most one operation may take, attempts and redirects
// included: after it the outcome is recorded as it stands.
func opBudget(cfg Config) time.Duration { return cfg.Timeout * clientAttempts }

// failBackoff is how long a worker waits after an operation that did not
// succeed. Without it, a cluster with no leader answers 503 at once and the
// workers spin, filling the history with failures and starving the two
// shared cores.
const failBackoff = 50 * time.Millisecond

// Run drives cfg.Concurrency closed-loop workers until ctx is done and
// records every operation in rec. Each worker is one process at a time with
// its own client (its own X-Client-Id); after an indeterminate outcome it
// continues as process p+Concurrency, because the old process may still have
// an operation in flight as far as the checker knows. Operations in flight
// when ctx ends are given up to opBudget to complete, so the history ends
// with as few open outcomes as possible. addrs is consulted before every
// operation so that clients follow membership changes. Run returns nil when
// ctx ends, or the first error writing the history.
func Run(ctx context.Context, cfg Config, addrs func() map[string]string, rec *history.Recorder) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if addrs == nil || rec == nil {
		return errors.New("workload: Run needs an address book and a recorder")
	}
	gen, err := NewGenerator(cfg.Workload, cfg.Keys, cfg.Seed)
	if err != nil {
		return err
	}
	return runWorkers(ctx, cfg, gen, addrs, rec)
}

func runWorkers(ctx context.Context, cfg Config, gen Generator, addrs func() map[string]string, rec *history.Recorder) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lim := newLimiter(cfg.Rate)
	errs := make([]error, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range cfg.Concurrency {
		w := &worker{cfg: cfg, index: i, process: i, gen: gen, rec: rec, lim: lim, addrs: addrs}
		wg.Go(func() {
			if err := w.loop(ctx); err != nil {
				errs[i] = err
				cancel() // a broken history is worth nothing: stop everyone
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// worker is one closed loop: it waits for each operation to complete before
// it asks the generator for the next.
type worker struct {
	cfg     Config
	index   int // 0..Concurrency-1
	process int // current process number: index + k*Concurrency
	gen     Generator
	rec     *history.Recorder
	lim     *limiter
	addrs   func() map[string]string

	client system.Client
	known  map[string]string // the address book the client was last given
}

func (w *worker) loop(ctx context.Context) error {
	w.newClient()
	defer func() { w.client.Close() }()
	for w.lim.wait(ctx) {
		w.syncAddresses()
		op := w.gen.Next()
		out, err := w.do(ctx, op)
		if err != nil {
			return err
		}
		w.gen.Observe(op, out.Type, out.Value)
		if out.Type == history.Info {
			if err := w.nextProcess(); err != nil {
				return err
			}
		}
		if out.Type != history.Ok {
			sleepCtx(ctx, failBackoff)
		}
	}
	return nil
}

// do records the invocation, performs op and records its completion.
func (w *worker) do(ctx context.Context, op Op) (outcome, error) {
	out, err := invokeAndComplete(ctx, w.rec, history.Client(w.process), w.cfg, w.client, op, w.cfg.StaleReads)
	if err != nil {
		return outcome{}, fmt.Errorf("workload: process %d: %w", w.process, err)
	}
	return out, nil
}

// invokeAndComplete is the recording discipline shared by the workers and
// the final reads: the invocation is in the history before the request
// leaves, and the completion after the answer (or its absence) is known.
// The request runs under its own deadline, detached from ctx, so that
// ending the run does not turn answers already on their way into unknowns.
func invokeAndComplete(ctx context.Context, rec *history.Recorder, p history.Process, cfg Config, c system.Client, op Op, stale bool) (outcome, error) {
	if _, _, err := rec.Record(history.Event{Process: p, Type: history.Invoke, F: op.F, Key: op.Key, Value: op.Value}); err != nil {
		return outcome{}, err
	}
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opBudget(cfg))
	start := time.Now()
	out := perform(opCtx, c, cfg.Workload, op, stale)
	latency := time.Since(start)
	cancel()
	_, _, err := rec.Record(history.Event{Process: p, Type: out.Type, F: op.F, Key: op.Key, Value: out.Value,
		Node: out.Node, Error: out.Error, Latency: int64(latency)})
	return out, err
}

// nextProcess retires the current process after an indeterminate outcome and
// continues as a fresh one with a fresh client session.
func (w *worker) nextProcess() error {
	next := w.process + w.cfg.Concurrency
	if next >= FinalReadProcessBase {
		return fmt.Errorf("workload: process numbers exhausted (%d indeterminate outcomes on worker %d)", next/w.cfg.Concurrency, w.index)
	}
	w.process = next
	w.newClient()
	return nil
}

// newClient gives the current process its own client; the previous one's
// idle connections are released, since every client has its own transport.
func (w *worker) newClient() {
	if w.client != nil {
		w.client.Close()
	}
	w.known = maps.Clone(w.addrs())
	w.client = w.cfg.System.NewClient(maps.Clone(w.known), system.ClientOptions{
		Timeout:         w.cfg.Timeout,
		ClientID:        processClientID(w.process),
		MaxAttempts:     clientAttempts,
		RetryIndefinite: clientResends,
	})
	w.preferHome()
}

// syncAddresses brings the client's address book up to date when nodes
// joined, left or moved.
func (w *worker) syncAddresses() {
	cur := w.addrs()
	if maps.Equal(cur, w.known) {
		return
	}
	for id, addr := range cur {
		if w.known[id] != addr {
			w.client.SetAddr(id, addr)
		}
	}
	for id := range w.known {
		if _, ok := cur[id]; !ok {
			w.client.RemoveAddr(id)
		}
	}
	w.known = maps.Clone(cur)
	w.preferHome()
}

// preferHome spreads the workers over the nodes: worker i first asks the
// i-th node. Linearizable requests are redirected to the leader anyway, but
// local reads then really come from every node, followers included.
func (w *worker) preferHome() {
	if len(w.known) == 0 {
		return
	}
	ids := slices.Sorted(maps.Keys(w.known))
	w.client.Prefer(ids[w.index%len(ids)])
}

// processClientID is the X-Client-Id of a process: one session per process,
// so the server's exactly-once table never mixes two processes.
func processClientID(process int) string { return fmt.Sprintf("faultline-p%d", process) }
