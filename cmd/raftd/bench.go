package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// benchOptions configure `raftd bench`.
type benchOptions struct {
	duration    time.Duration
	clients     []int
	readClients int
	nodes       int
	keys        int
	dir         string
	nodeArgs    []string
	verbose     bool
}

func parseBenchFlags(args []string, stderr io.Writer) (benchOptions, error) {
	fs := flag.NewFlagSet("raftd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := benchOptions{}
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "how long each phase runs")
	clients := fs.String("clients", "1,16,64", "concurrent writers, one write phase per value")
	fs.IntVar(&o.readClients, "read-clients", 64, "concurrent readers in each read phase")
	fs.IntVar(&o.nodes, "nodes", 3, "cluster size")
	fs.IntVar(&o.keys, "keys", 1000, "distinct keys written and read")
	fs.StringVar(&o.dir, "dir", "", "directory for data and node logs (default: a temporary one, removed afterwards)")
	nodeArgs := fs.String("node-args", "", "extra flags for every node, space-separated (e.g. \"--tick 20ms\")")
	fs.BoolVar(&o.verbose, "v", false, "print each cluster's addresses and leader")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.nodeArgs = strings.Fields(*nodeArgs)
	for _, part := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return o, fmt.Errorf("--clients: %q is not a positive integer", part)
		}
		o.clients = append(o.clients, n)
	}
	switch {
	case o.duration <= 0:
		return o, fmt.Errorf("--duration: must be positive, got %v", o.duration)
	case o.readClients < 1:
		return o, fmt.Errorf("--read-clients: must be at least 1, got %d", o.readClients)
	case o.nodes < 1:
		return o, fmt.Errorf("--nodes: must be at least 1, got %d", o.nodes)
	case o.keys < 1:
		return o, fmt.Errorf("--keys: must be at least 1, got %d", o.keys)
	}
	return o, nil
}

// runBench starts local clusters of this very binary (fsync on) and prints
// write and read throughput and latency percentiles.
func runBench(args []string, stdout, stderr io.Writer) int {
	o, err := parseBenchFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "raftd bench: %v\n", err)
		return exitUsage
	}
	bin, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "raftd bench: locate this binary: %v\n", err)
		return exitFatal
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "raftd-bench-"); err != nil {
			fmt.Fprintf(stderr, "raftd bench: %v\n", err)
			return exitFatal
		}
		defer os.RemoveAll(o.dir)
	}
	fmt.Fprintf(stdout, "raftd bench: %d nodes on 127.0.0.1, fsync on, %v per phase, %d keys\n", o.nodes, o.duration, o.keys)
	fmt.Fprintf(stdout, "%-20s %7s %8s %9s %9s %6s %13s %13s\n", "phase", "clients", "ops/s", "p50", "p99", "errors", "server-cpu/op", "client-cpu/op")
	if err := benchMode(o, bin, "readindex", stdout, true, []string{"readindex", "local"}); err != nil {
		fmt.Fprintf(stderr, "raftd bench: %v\n", err)
		return exitFatal
	}
	if err := benchMode(o, bin, "lease", stdout, false, []string{"lease"}); err != nil {
		fmt.Fprintf(stderr, "raftd bench: %v\n", err)
		return exitFatal
	}
	return exitOK
}

// benchMode runs one cluster with --read-mode mode: the write phases when
// writes is set, then one read phase per entry of reads ("local" reads with
// ?read=local, anything else is a linearizable read in that mode).
func benchMode(o benchOptions, bin, mode string, stdout io.Writer, writes bool, reads []string) error {
	dir := filepath.Join(o.dir, mode)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	c, err := startLocalCluster(ctx, dir, o.nodes, system.RaftdOptions{
		Binary: bin, ReadMode: mode, WithoutFaultInjection: true, Extra: o.nodeArgs,
	})
	cancel()
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	cl := client.New(c.addrs(), client.Options{Timeout: 5 * time.Second})
	defer cl.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 15*time.Second)
	leader, err := waitLeader(ctx, cl, c.Nodes())
	cancel()
	if err != nil {
		return err
	}
	if o.verbose {
		fmt.Fprintf(stdout, "cluster %s: %v, leader %s, logs in %s\n", mode, c.addrs(), leader, dir)
	}

	// Every key exists before reads start, so a read does real work.
	fill := func(ctx context.Context, worker int, n uint64) error {
		_, err := cl.Put(ctx, fmt.Sprintf("k%d", int(n-1)), n)
		return err
	}
	if _, err := measure(c, o.keys, 16, 0, fill); err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	if writes {
		for _, n := range o.clients {
			write := func(ctx context.Context, worker int, seq uint64) error {
				_, err := cl.Put(ctx, fmt.Sprintf("k%d", rand.IntN(o.keys)), seq)
				return err
			}
			r, err := measure(c, 0, n, o.duration, write)
			if err != nil {
				return err
			}
			r.print(stdout, "write ("+mode+")", n)
		}
	}
	for _, kind := range reads {
		local := kind == "local"
		read := func(ctx context.Context, worker int, seq uint64) error {
			_, _, _, err := cl.Get(ctx, fmt.Sprintf("k%d", rand.IntN(o.keys)), local)
			return err
		}
		r, err := measure(c, 0, o.readClients, o.duration, read)
		if err != nil {
			return err
		}
		r.print(stdout, "read ("+kind+")", o.readClients)
	}
	return nil
}

// benchResult is one phase's outcome.
type benchResult struct {
	ops       int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration
	// CPU time the nodes and this process spent during the phase: on a
	// shared machine, cost per operation is steadier than throughput.
	serverCPU, clientCPU time.Duration
}

func (r benchResult) print(w io.Writer, phase string, clients int) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	rate := float64(r.ops) / r.elapsed.Seconds()
	perOp := func(d time.Duration) time.Duration {
		if r.ops == 0 {
			return 0
		}
		return (d / time.Duration(r.ops)).Round(time.Microsecond)
	}
	fmt.Fprintf(w, "%-20s %7d %8.0f %9s %9s %6d %13s %13s\n", phase, clients, rate,
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), r.errors,
		perOp(r.serverCPU), perOp(r.clientCPU))
}

// measure runs op from workers goroutines, either count times in all
// (count > 0) or for d, and collects the latency of every success.
func measure(c *localCluster, count, workers int, d time.Duration, op func(ctx context.Context, worker int, seq uint64) error) (benchResult, error) {
	serverCPU0, clientCPU0 := c.cpu(), selfCPU()
	var (
		mu     sync.Mutex
		res    benchResult
		next   uint64
		wg     sync.WaitGroup
		start  = time.Now()
		cutoff = start.Add(d)
	)
	take := func() (uint64, bool) {
		mu.Lock()
		defer mu.Unlock()
		if count > 0 && next >= uint64(count) {
			return 0, false
		}
		next++
		return next, count > 0 || time.Now().Before(cutoff)
	}
	var firstErr error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			ops, errs := 0, 0
			for {
				seq, ok := take()
				if !ok {
					break
				}
				t0 := time.Now()
				err := op(context.Background(), w, seq)
				if err != nil {
					errs++
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lat = append(lat, time.Since(t0))
				ops++
			}
			mu.Lock()
			res.ops += ops
			res.errors += errs
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.serverCPU, res.clientCPU = c.cpu()-serverCPU0, selfCPU()-clientCPU0
	if res.ops == 0 && firstErr != nil {
		return res, fmt.Errorf("every operation failed, first: %w", firstErr)
	}
	return res, nil
}

// localCluster is a cluster of raftd processes on 127.0.0.x, started by
// sut/runtime's process runtime (peers reach each other through its
// per-node proxy, clients reach the nodes directly).
type localCluster struct {
	runtime.Cluster
	procs runtime.Processes
}

// startLocalCluster starts nodes n1..nN of raftd with opts, data and logs
// under dir.
func startLocalCluster(ctx context.Context, dir string, nodes int, opts system.RaftdOptions) (*localCluster, error) {
	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
	}
	rt := runtime.NewProcess(runtime.Options{WorkDir: dir})
	c, err := rt.Start(ctx, runtime.Spec{Campaign: "raftd-local", Nodes: ids, System: system.Raftd(opts), LogDir: dir})
	if err != nil {
		return nil, err
	}
	procs, ok := c.(runtime.Processes)
	if !ok {
		c.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("the process runtime's cluster does not tell its processes")
	}
	return &localCluster{Cluster: c, procs: procs}, nil
}

// addrs maps every node to its client address.
func (c *localCluster) addrs() map[string]string {
	out := map[string]string{}
	for _, id := range c.Nodes() {
		out[id] = c.ClientAddr(id)
	}
	return out
}

// cpu is the CPU time used so far by every running node.
func (c *localCluster) cpu() time.Duration {
	var total time.Duration
	for _, id := range c.Nodes() {
		if pid, err := c.procs.PID(id); err == nil {
			total += processCPU(pid)
		}
	}
	return total
}

// waitLeader waits until one of among reports itself leader with its own
// term's entries applied, and returns its id.
func waitLeader(ctx context.Context, cl *client.Client, among []string) (string, error) {
	for {
		for _, id := range among {
			st, err := cl.Status(ctx, id)
			if err == nil && st.Role == "leader" && st.Commit > 0 && st.Applied >= st.Commit {
				return id, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no leader among %v: %w", among, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
