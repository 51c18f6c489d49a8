package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/bench"
	"github.com/faultline/faultline/sut/system"
)

func benchUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker bench [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Benchmarks systems under test side by side on this machine: for each system in --system,")
	fmt.Fprintln(w, "a cluster of --nodes local processes (process runtime, fsync on); then one load generator")
	fmt.Fprintln(w, "with each --clients count of closed-loop clients: writes, then linearizable reads, for")
	fmt.Fprintln(w, "--duration each, in --rounds stretches alternating between the systems. Clients send")
	fmt.Fprintln(w, "to the leader. It prints ops/s, p50, p99 and the node processes' CPU time per")
	fmt.Fprintln(w, "operation, with the ratio of the first system's ops/s to the second's. etcd is built")
	fmt.Fprintln(w, "from its Go module on first use (minutes), then cached. Run it from this repository's")
	fmt.Fprintln(w, "root: raftd is built from its source.")
	fmt.Fprintln(w)
	var o benchOptions
	printDefaults(w, benchFlags(&o))
}

type benchOptions struct {
	systems, clients    string
	duration            time.Duration
	nodes, keys, rounds int
	dir                 string
	json                bool
	binary, args, caps  string
}

func benchFlags(o *benchOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.systems, "system", "raftd,etcd", "comma `list` of systems to bench, in turn: raftd, etcd, http")
	fs.StringVar(&o.clients, "clients", "1,16,64", "comma `list` of concurrent client counts, one write and one read phase each")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "how long each phase runs")
	fs.IntVar(&o.nodes, "nodes", 3, "nodes per cluster")
	fs.IntVar(&o.keys, "keys", 1000, "distinct keys written and read")
	fs.IntVar(&o.rounds, "rounds", 5, "split each phase into this many stretches that alternate between the systems")
	fs.StringVar(&o.dir, "dir", "", "`directory` for the clusters' data and logs (default: a temporary one, removed afterwards)")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON on stdout (the table goes to stderr)")
	fs.StringVar(&o.binary, "system-binary", "", "node binary of the http system (docs/sut-protocol.md)")
	fs.StringVar(&o.args, "system-args", "", "node command line of the http system, with placeholders {id} {listen} {peers} {data} {join} {cluster}")
	fs.StringVar(&o.caps, "system-capabilities", "", "optional endpoints the http system implements (status lets clients go to the leader)")
	return fs
}

// parse turns the flags into the systems to bench and the benchmark's
// configuration; every error names its flag.
func (o benchOptions) parse() ([]system.System, bench.Config, error) {
	cfg := bench.Config{Duration: o.duration, Nodes: o.nodes, Keys: o.keys, Rounds: o.rounds}
	for _, part := range strings.Split(o.clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, cfg, fmt.Errorf("--clients: %q is not a positive integer", part)
		}
		cfg.Clients = append(cfg.Clients, n)
	}
	if o.rounds < 1 {
		return nil, cfg, fmt.Errorf("--rounds: must be at least 1, got %d", o.rounds)
	}
	if err := cfg.Validate(); err != nil {
		return nil, cfg, err
	}
	names := strings.Split(o.systems, ",")
	if (o.binary != "" || o.args != "" || o.caps != "") && !slices.Contains(names, system.NameHTTP) {
		return nil, cfg, fmt.Errorf("--system-binary, --system-args and --system-capabilities describe the http system; --system %s has none", o.systems)
	}
	var systems []system.System
	seen := map[string]bool{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		if seen[name] {
			return nil, cfg, fmt.Errorf("--system: %q listed twice", name)
		}
		seen[name] = true
		sc := system.Config{Name: name, Raftd: system.RaftdOptions{WithoutFaultInjection: true}}
		if name == "" {
			return nil, cfg, fmt.Errorf("--system: empty entry in %q", o.systems)
		}
		if name == system.NameHTTP {
			caps, err := system.ParseCapabilities(o.caps)
			if err != nil {
				return nil, cfg, fmt.Errorf("--system-capabilities: %w", err)
			}
			sc.Binary, sc.Args, sc.Capabilities = o.binary, o.args, caps
		}
		sys, err := system.New(sc)
		if err != nil {
			return nil, cfg, err
		}
		systems = append(systems, sys)
	}
	return systems, cfg, nil
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o benchOptions
	err := parseFlagsOnly(benchFlags(&o), args)
	var (
		systems []system.System
		cfg     bench.Config
	)
	if err == nil {
		systems, cfg, err = o.parse()
	}
	if err != nil {
		return flagError(err, "bench", benchUsage, stdout, stderr)
	}
	cfg.Log = newLogger(ctx, stderr, slog.LevelWarn)
	if cfg.WorkDir = o.dir; o.dir == "" {
		if cfg.WorkDir, err = os.MkdirTemp("", "checker-bench-"); err != nil {
			fmt.Fprintf(stderr, "checker bench: %v\n", err)
			return exitCannotGo
		}
		defer os.RemoveAll(cfg.WorkDir)
	}
	out := stdout
	if o.json {
		out = stderr
	}
	fmt.Fprintf(out, "checker bench: %d nodes per system as local processes on 127.0.0.x (process runtime, fsync on; peer traffic through the runtime's proxy in this process), %v per phase, %d keys\n",
		cfg.Nodes, cfg.Duration, cfg.Keys)
	names := make([]string, len(systems))
	for i, sys := range systems {
		names[i] = sys.Name() + " " + sys.Version()
	}
	fmt.Fprintf(out, "starting %s; each phase runs in %d rounds of %v on each system in turn\n", strings.Join(names, ", "), cfg.Rounds, cfg.Duration/time.Duration(cfg.Rounds))
	results, err := bench.Run(ctx, systems, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "checker bench: %v\n", err)
		return exitCannotGo
	}
	for _, r := range results {
		fmt.Fprintf(out, "%s: %s\n", r.System, r.Routing)
	}
	if err := bench.WriteTable(out, results); err != nil {
		fmt.Fprintf(stderr, "checker bench: %v\n", err)
		return exitCannotGo
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"results": results}); err != nil {
			fmt.Fprintf(stderr, "checker bench: %v\n", err)
			return exitCannotGo
		}
	}
	return 0
}
