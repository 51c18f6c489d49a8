// Package bench owns Faultline's side-by-side load benchmark of systems under
// test (`checker bench`): it starts each system's cluster on sut/runtime's
// process runtime, drives it from one load generator through the system's
// own Client (sut/system), so any System can be benched, and measures
// throughput, latency percentiles and the node processes' CPU time per
// operation. It never checks what the system returns: that is the checker's
// job, not a benchmark's.
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// Op is what a phase does.
type Op string

const (
	Write Op = "write"
	Read  Op = "read" // linearizable: the system's default read
)

// Config is one benchmark of one system.
type Config struct {
	Clients  []int         // concurrent clients, one write and one read phase each
	Duration time.Duration // per phase and system
	// Rounds splits each phase into this many stretches of
	// Duration/Rounds, which run on each system in turn; zero means 1.
	Rounds int
	Nodes  int
	Keys   int // keys written and read, "k0".."k<Keys-1>"
	// WorkDir holds the clusters' data and logs; empty means os.TempDir().
	WorkDir string
	// RequestTimeout bounds one request attempt; zero means 5 s.
	RequestTimeout time.Duration
	Log            *slog.Logger
}

// Validate checks c; the error names the field as the command's flag.
func (c Config) Validate() error {
	switch {
	case len(c.Clients) == 0:
		return fmt.Errorf("--clients: empty")
	case c.Duration <= 0:
		return fmt.Errorf("--duration: must be positive, got %v", c.Duration)
	case c.Nodes < 1:
		return fmt.Errorf("--nodes: must be at least 1, got %d", c.Nodes)
	case c.Keys < 1:
		return fmt.Errorf("--keys: must be at least 1, got %d", c.Keys)
	case c.Rounds < 0:
		return fmt.Errorf("--rounds: must be at least 1, got %d", c.Rounds)
	case c.Rounds > 0 && c.Duration/time.Duration(c.Rounds) < 10*time.Millisecond:
		return fmt.Errorf("--rounds: %d rounds leave less than 10ms of the %v phase each", c.Rounds, c.Duration)
	}
	for _, n := range c.Clients {
		if n < 1 {
			return fmt.Errorf("--clients: %d is not a positive number of clients", n)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Rounds <= 0 {
		c.Rounds = 1
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Result is one system's benchmark.
type Result struct {
	System  string `json:"system"`
	Version string `json:"version"`
	Nodes   int    `json:"nodes"`
	// Routing says where the clients send their requests.
	Routing string  `json:"routing"`
	Phases  []Phase `json:"phases"`
}

// Phase is one measured phase: Clients clients doing Op for a while.
type Phase struct {
	Op      Op  `json:"op"`
	Clients int `json:"clients"`
	// Ops counts the operations that succeeded, Errors those that did not
	// (timeouts, refusals); only successes have a latency.
	Ops    int `json:"ops"`
	Errors int `json:"errors"`
	// FirstError is the first failure of the phase, "" without one.
	FirstError string  `json:"first_error,omitempty"`
	Latencies  int     `json:"latencies"` // latencies recorded: one per success
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"ops_per_second"`
	P50        Millis  `json:"p50_ms"`
	P99        Millis  `json:"p99_ms"`
	// ServerCPU is the CPU time (user+system, from /proc/<pid>/stat) the
	// node processes used during the phase; ServerCPUPerOp divides it by Ops.
	ServerCPU      Millis `json:"server_cpu_ms"`
	ServerCPUPerOp Millis `json:"server_cpu_per_op_ms"`
}

// Millis is a duration that JSON shows as (fractional) milliseconds.
type Millis time.Duration

func (m Millis) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%.4f", float64(m)/float64(time.Millisecond)), nil
}

// Run benchmarks systems side by side. It starts a cluster of cfg.Nodes
// nodes of each on the process runtime, waits for each one's leader and
// fills every key once; then it runs a write phase for each client count
// and a read phase for each. A phase runs on each system in turn, in rounds
// of short stretches (Config.Rounds), so that a burst of load from elsewhere
// on the machine lands on both systems alike rather than on one system's
// whole phase. The clusters are
// removed at the end. Results are in the order of systems.
func Run(ctx context.Context, systems []system.System, cfg Config) ([]Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(systems) == 0 {
		return nil, fmt.Errorf("--system: no system to bench")
	}
	cfg = cfg.withDefaults()
	results := make([]Result, len(systems))
	gens := make([]*generator, len(systems))
	for i, sys := range systems {
		g, routing, err := prepare(ctx, sys, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sys.Name(), err)
		}
		defer g.cluster.close()
		gens[i] = g
		results[i] = Result{System: sys.Name(), Version: sys.Version(), Nodes: cfg.Nodes, Routing: routing}
	}
	for _, op := range []Op{Write, Read} {
		for _, n := range cfg.Clients {
			phases, err := phase(ctx, gens, op, n, cfg)
			if err != nil {
				return nil, err
			}
			for i, p := range phases {
				results[i].Phases = append(results[i].Phases, p)
			}
		}
	}
	return results, nil
}

// phase runs n clients doing op on every system: cfg.Rounds rounds, each a
// stretch of cfg.Duration/cfg.Rounds on each system in turn, with the same
// clients throughout.
func phase(ctx context.Context, gens []*generator, op Op, n int, cfg Config) ([]Phase, error) {
	clients := make([][]system.Client, len(gens))
	for i, g := range gens {
		clients[i] = g.newClients(n)
		defer closeAll(clients[i])
	}
	stretches := make([][]stretch, len(gens))
	for range cfg.Rounds {
		for i, g := range gens {
			st, err := g.measure(ctx, clients[i], op, cfg.Duration/time.Duration(cfg.Rounds))
			if err != nil {
				return nil, fmt.Errorf("%s: %s phase with %d clients: %w", g.sys.Name(), op, n, err)
			}
			stretches[i] = append(stretches[i], st)
		}
	}
	phases := make([]Phase, len(gens))
	for i, g := range gens {
		p, err := summarize(op, n, stretches[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %s phase with %d clients: %w", g.sys.Name(), op, n, err)
		}
		cfg.Log.Info("bench: phase done", "system", g.sys.Name(), "op", op, "clients", n, "ops_per_second", int(p.PerSecond))
		phases[i] = p
	}
	return phases, nil
}

// prepare starts sys's cluster, finds where clients send their requests
// and fills the keys. The caller closes the cluster (also on an error).
func prepare(ctx context.Context, sys system.System, cfg Config) (*generator, string, error) {
	c, err := startCluster(ctx, sys, cfg)
	if err != nil {
		return nil, "", err
	}
	target, routing, err := c.route(ctx)
	if err != nil {
		c.close()
		return nil, "", err
	}
	cfg.Log.Info("bench: cluster ready", "system", sys.Name(), "routing", routing)
	g := &generator{sys: sys, cluster: c, addrs: target, cfg: cfg}
	if err := g.fill(ctx); err != nil {
		c.close()
		return nil, "", fmt.Errorf("fill the keys: %w", err)
	}
	return g, routing, nil
}

// cluster is a running process-runtime cluster of one system.
type cluster struct {
	sys   system.System
	rt    runtime.Cluster
	procs runtime.Processes
	cfg   Config
}

func startCluster(ctx context.Context, sys system.System, cfg Config) (*cluster, error) {
	ids := make([]string, cfg.Nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
	}
	rt := runtime.NewProcess(runtime.Options{Log: cfg.Log, WorkDir: cfg.WorkDir, StartTimeout: 2 * time.Minute})
	c, err := rt.Start(ctx, runtime.Spec{Campaign: "bench-" + sys.Name(), Nodes: ids, System: sys})
	if err != nil {
		return nil, err
	}
	procs, ok := c.(runtime.Processes)
	if !ok {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("the process runtime's cluster does not tell its processes' ids")
	}
	return &cluster{sys: sys, rt: c, procs: procs, cfg: cfg}, nil
}

func (c *cluster) close() { _ = c.rt.Close(context.Background()) }

// addrs maps every node to its client address.
func (c *cluster) addrs() map[string]string {
	out := map[string]string{}
	for _, id := range c.rt.Nodes() {
		out[id] = c.rt.ClientAddr(id)
	}
	return out
}

// serverCPU is the CPU time every node process has used so far.
func (c *cluster) serverCPU() (time.Duration, error) {
	var total time.Duration
	for _, id := range c.rt.Nodes() {
		pid, err := c.procs.PID(id)
		if err != nil {
			return 0, err
		}
		d, err := ProcessCPU(pid)
		if err != nil {
			return 0, fmt.Errorf("node %s: %w", id, err)
		}
		total += d
	}
	return total, nil
}

// leaderWait bounds how long a fresh cluster may take to elect a leader.
const leaderWait = 30 * time.Second

// route decides where clients send requests: to the leader alone when the
// system reports status (as a deployment's clients would after one
// redirect), to every node otherwise (the system's client then picks).
func (c *cluster) route(ctx context.Context) (map[string]string, string, error) {
	all := c.addrs()
	if !c.sys.Capabilities().Has(system.Status) {
		return all, "every node (the system reports no status, so its client picks)", nil
	}
	admin := c.sys.NewAdmin(all, 2*time.Second)
	ctx, cancel := context.WithTimeout(ctx, leaderWait)
	defer cancel()
	for {
		for _, id := range c.rt.Nodes() {
			st, err := admin.Status(ctx, id)
			if err == nil && st.Role == "leader" && st.Commit > 0 && st.Applied >= st.Commit {
				return map[string]string{id: all[id]}, "every client sends to the leader (" + id + ", found through the system's status)", nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, "", fmt.Errorf("no leader with its term's entries applied among %v within %v", c.rt.Nodes(), leaderWait)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ProcessCPU returns the user+system CPU time process pid has used, from
// /proc/<pid>/stat (Linux only).
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("CPU time of process %d: %w", pid, err)
	}
	return parseStatCPU(b)
}
