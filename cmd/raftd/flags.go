package main

import (
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/server"
)

var errHelp = errors.New("help requested")

// options is the parsed command line of a serving node.
type options struct {
	config   server.Config
	logLevel slog.Level
	pprof    bool
}

// bugFlag collects repeated --bug flags (a comma-separated list works too).
type bugFlag struct{ names []string }

func (b *bugFlag) String() string { return strings.Join(b.names, ",") }
func (b *bugFlag) Set(v string) error {
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := bugs.Lookup(n); !ok {
			return fmt.Errorf("unknown bug %q (list them with: raftd bugs)", n)
		}
		b.names = append(b.names, n)
	}
	return nil
}

// parseFlags parses a serving node's flags; every error names its flag.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("raftd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	usage := func() {
		fmt.Fprint(stderr, `usage: raftd --id ID --listen HOST:PORT --peers ID=HOST:PORT,... --data DIR [flags]
       raftd --id ID --listen HOST:PORT --data DIR --join [flags]
       raftd bugs                 list the planted bugs

flags:
`)
		fs.PrintDefaults()
	}
	// Parse errors are reported once, by the caller, naming the flag;
	// the full usage is for -h and --help only.
	fs.Usage = func() {}
	var (
		id             = fs.String("id", "", "this node's id (required)")
		listen         = fs.String("listen", "127.0.0.1:7001", "host:port serving clients and peers")
		peers          = fs.String("peers", "", "initial voters id=host:port,... including this node (not needed with --join)")
		data           = fs.String("data", "", "data directory (required)")
		cluster        = fs.String("cluster", server.DefaultCluster, "cluster name, checked against the data directory")
		readMode       = fs.String("read-mode", "readindex", "linearizable reads: readindex, lease or log")
		faultInjection = fs.Bool("fault-injection", false, "enable the /fault/... endpoints")
		join           = fs.Bool("join", false, "start empty and wait to be added by POST /admin/members")
		drift          = fs.String("max-clock-drift", "0.2", "clock drift the lease tolerates: a fraction of the election timeout (0.2) or a duration (100ms)")
		snapshotEvery  = fs.Int("snapshot-every", server.DefaultSnapshotEvery, "applied entries between snapshots")
		tick           = fs.Duration("tick", server.DefaultTick, "one Raft tick of (skewable) clock time")
		electionTicks  = fs.Int("election-ticks", server.DefaultElectionTicks, "minimum election timeout, in ticks")
		heartbeatTicks = fs.Int("heartbeat-ticks", server.DefaultHeartbeatTicks, "heartbeat interval, in ticks")
		seed           = fs.Int64("seed", 0, "seed of the node's randomness (0: derived from --id)")
		reqTimeout     = fs.Duration("request-timeout", server.DefaultRequestTimeout, "server-side timeout of a client request (answered 504, outcome unknown)")
		logLevel       = fs.String("log-level", "info", "debug, info, warn or error")
		pprof          = fs.Bool("pprof", false, "serve Go profiles under /debug/pprof/ (diagnostics)")
		bugList        bugFlag
	)
	fs.Var(&bugList, "bug", "enable a planted bug, by name (repeatable; list them with: raftd bugs)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			usage()
			return options{}, errHelp
		}
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	var o options
	c := &o.config
	c.ID, c.Listen, c.DataDir, c.Cluster = *id, *listen, *data, *cluster
	c.Join, c.FaultInjection = *join, *faultInjection
	c.SnapshotEvery, c.Tick = *snapshotEvery, *tick
	c.ElectionTicks, c.HeartbeatTicks = *electionTicks, *heartbeatTicks
	c.RequestTimeout = *reqTimeout
	var err error
	if c.Bugs, err = bugs.Parse(bugList.names); err != nil {
		return o, fmt.Errorf("--bug: %v", err)
	}
	if c.ReadMode, err = server.ParseReadMode(*readMode); err != nil {
		return o, fmt.Errorf("--read-mode: %v", err)
	}
	if c.Peers, err = parsePeers(*peers); err != nil {
		return o, fmt.Errorf("--peers: %v", err)
	}
	if *join && len(c.Peers) == 0 {
		c.Peers = map[string]string{c.ID: c.Listen}
	}
	if *reqTimeout <= 0 {
		return o, fmt.Errorf("--request-timeout: must be positive, got %v", *reqTimeout)
	}
	if c.MaxClockDrift, err = parseDrift(*drift, *electionTicks, *tick); err != nil {
		return o, fmt.Errorf("--max-clock-drift: %v", err)
	}
	o.pprof = *pprof
	c.Seed = *seed
	if c.Seed == 0 {
		h := fnv.New64a()
		h.Write([]byte(c.ID))
		c.Seed = int64(h.Sum64() >> 1)
	}
	if err := o.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return o, fmt.Errorf("--log-level: %v", err)
	}
	if err := c.Validate(); err != nil {
		return o, err
	}
	return o, nil
}

// parsePeers reads "id=host:port,...", naming the bad entry.
func parsePeers(s string) (map[string]string, error) {
	peers := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return peers, nil
	}
	for i, part := range strings.Split(s, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("entry %d %q: want id=host:port", i+1, part)
		}
		if _, dup := peers[id]; dup {
			return nil, fmt.Errorf("entry %d %q: id %s listed twice", i+1, part, id)
		}
		peers[id] = addr
	}
	return peers, nil
}

// parseDrift accepts a fraction in [0,1) or a duration, which is converted
// to a fraction of the minimum election timeout (electionTicks*tick): the
// lease is shortened by that much clock time.
func parseDrift(s string, electionTicks int, tick time.Duration) (float64, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || f >= 1 {
			return 0, fmt.Errorf("fraction %v must be in [0, 1)", f)
		}
		return f, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a fraction like 0.2 nor a duration like 100ms", s)
	}
	timeout := time.Duration(electionTicks) * tick
	if d < 0 || timeout <= 0 || d >= timeout {
		return 0, fmt.Errorf("duration %v must be in [0, the election timeout %v)", d, timeout)
	}
	return float64(d) / float64(timeout), nil
}
