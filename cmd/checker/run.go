package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/campaign/sweep"
	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/system"
)

// nemesisUsage names the fault kinds from the nemesis' registry, so a new
// kind shows up in the help without an edit here.
var nemesisUsage = fmt.Sprintf("faults: `all` (%s), none, or a comma list of kinds (%s), each optionally kind:mode (e.g. partition:isolate-leader); parts joined by + start and end together",
	optInNote(), kindList(nemesis.EveryKind))

func kindList(kinds []nemesis.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ",")
}

// optInNote says which kinds "all" leaves out.
func optInNote() string {
	var out []nemesis.Kind
	for _, k := range nemesis.EveryKind {
		if !slices.Contains(nemesis.AllKinds, k) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return "every kind the system supports"
	}
	return "every kind the system supports but " + kindList(out) + ", played only when named"
}

// runFlags binds every `checker run` flag to o. replay receives --replay,
// extras the flags that are not campaign options.
func runFlags(o *campaign.Options, replay *string, extras *runExtras) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	extras.register(fs)
	fs.StringVar(&o.System, "system", o.System, "system under test: `raftd` (built from this module), etcd (built from etcd's module, "+system.EtcdVersion+") or http (your server, see docs/sut-protocol.md)")
	fs.StringVar(&o.SystemBinary, "system-binary", o.SystemBinary, "use this node `binary` instead of building one (static for --runtime docker)")
	fs.StringVar(&o.SystemImage, "system-image", o.SystemImage, "run nodes from this container `image` (docker runtime; its entrypoint is the node program)")
	fs.StringVar(&o.SystemCapabilities, "system-capabilities", o.SystemCapabilities, "optional endpoints --system http implements: a comma `list` of status, membership, member-replace, clock-skew, slow-down, stale-read (docs/sut-protocol.md)")
	fs.StringVar(&o.SystemArgs, "system-args", o.SystemArgs, "node command line of --system http, with placeholders {id} {listen} {peers} {data} {join} {cluster}")
	fs.StringVar(&o.Runtime, "runtime", o.Runtime, "where nodes run: `auto` (docker when an engine answers, else process), docker or process")
	fs.IntVar(&o.Nodes, "nodes", o.Nodes, "number of nodes of the system under test (initial voters)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "how long the workload and the nemesis run")
	fs.StringVar(&o.Workload, "workload", o.Workload, "`register` (read/write/cas), set (add/read) or append (append/read)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "number of closed-loop client workers")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "total operations per second over all clients, 0 = unlimited")
	fs.IntVar(&o.Keys, "keys", o.Keys, "number of keys the workload spreads over")
	fs.StringVar(&o.Nemesis, "nemesis", o.Nemesis, nemesisUsage)
	fs.DurationVar(&o.Interval, "interval", o.Interval, "how long each fault is held, and the quiet time between faults")
	fs.IntVar(&o.ConcurrentFaults, "concurrent-faults", o.ConcurrentFaults, "how many faults may be active at once, each on its own seeded schedule (1 = one at a time)")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed of the workload and the fault schedule; 0 = from the clock (printed and recorded)")
	fs.StringVar(&o.Read, "read", o.Read, "client read style: empty for linearizable reads, or the system's stale mode (`local` for raftd's ?read=local)")
	fs.StringVar(&o.ReadMode, "read-mode", o.ReadMode, "raftd --read-mode: `readindex`, lease or log")
	fs.Var(&stringList{list: &o.Bugs}, "bug", "enable a planted raftd bug by `NAME` (repeatable; see `checker bugs`)")
	fs.StringVar(&o.Store, "store", o.Store, "store `directory` for run directories")
	fs.StringVar(&o.Name, "name", o.Name, "campaign name in the store (default <workload>-<nemesis>)")
	fs.DurationVar(&o.CheckTimeout, "check-timeout", o.CheckTimeout, "time limit of the linearizability check; beyond it the verdict is unknown")
	fs.Var(&o.CheckMemory, "check-memory", "memory `budget` of the check's search (512MiB, 2GiB, ...); a key that would exceed it is unknown (default half the machine's memory, "+check.FormatBytes(check.DefaultMemoryBudget())+" here)")
	fs.DurationVar(&o.RecoveryTimeout, "recovery-timeout", o.RecoveryTimeout, "bound on the wait for a leader and for recovery after healing")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "per-request client timeout (a timeout is recorded as info)")
	fs.Float64Var(&o.MaxClockDrift, "max-clock-drift", o.MaxClockDrift, "raftd --max-clock-drift, also bounds the nemesis' clock-rate skew")
	fs.IntVar(&o.SnapshotEvery, "snapshot-every", o.SnapshotEvery, "raftd --snapshot-every (entries between snapshots), 0 = raftd's default")
	fs.StringVar(replay, "replay", *replay, "re-run the campaign recorded in `RUN_DIR` (same options and seed); other flags override")
	return fs
}

func runUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker run [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Starts a cluster of the system under test (--system), runs the workload while the")
	fmt.Fprintln(w, "nemesis injects faults, heals everything, performs final reads, checks the history")
	fmt.Fprintln(w, "and writes a run directory (store/<name>/<timestamp>/ with report.html). Exit: 0 valid,")
	fmt.Fprintln(w, "1 invalid, 2 unknown, 3 the campaign could not run. Ctrl-C stops early: faults are")
	fmt.Fprintln(w, "healed and the history recorded so far is checked.")
	fmt.Fprintln(w)
	o := campaign.DefaultOptions()
	replay := ""
	printDefaults(w, runFlags(&o, &replay, &runExtras{}))
}

// parseRunOptions turns `checker run` arguments into options: defaults, or
// the replayed run's options, with every flag given on the command line
// applied on top.
func parseRunOptions(args []string, extras *runExtras) (campaign.Options, error) {
	o := campaign.DefaultOptions()
	replay := ""
	err := parseFlagsOnly(runFlags(&o, &replay, extras), args)
	if err == nil {
		err = extras.validate()
	}
	if err != nil {
		return o, err
	}
	if replay != "" {
		loaded, err := campaign.LoadOptions(replay)
		if err != nil {
			return o, fmt.Errorf("--replay %s: %w", replay, err)
		}
		// Parse again over the recorded options so that only the flags
		// given explicitly override them.
		if _, err := parseFlags(runFlags(&loaded, &replay, extras), args); err != nil {
			return o, err
		}
		o = loaded
	}
	return o, o.Validate()
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var extras runExtras
	o, err := parseRunOptions(args, &extras)
	if err != nil {
		return flagError(err, "run", runUsage, stdout, stderr)
	}
	display := newDisplay(stderr)
	o.Log = newLogger(ctx, display, slog.LevelInfo)
	return runSeriesOf(ctx, o, extras, display, stdout, stderr)
}

// printOutcome is the end-of-run summary on stdout.
func printOutcome(w io.Writer, out *campaign.Outcome) {
	m := out.Manifest
	switch {
	case m.Status != store.StatusComplete && m.Error != "":
		fmt.Fprintf(w, "campaign %s: %s\n", m.Status, m.Error)
	case m.Status != store.StatusComplete:
		fmt.Fprintf(w, "campaign %s\n", m.Status)
	case m.Error != "":
		fmt.Fprintf(w, "warning: %s\n", m.Error)
	}
	if m.Recovery != "" {
		fmt.Fprintf(w, "recovery: %s\n", m.Recovery)
	}
	if out.Result == nil {
		fmt.Fprintf(w, "verdict: none (the history could not be checked: %v)\n", out.CheckErr)
	} else {
		printVerdict(w, out.Result, 10)
	}
	if m.FirstOpNs > 0 {
		fmt.Fprintf(w, "first operation at %.2f s (runtime %s)\n", float64(m.FirstOpNs)/1e9, m.Runtime)
	}
	fmt.Fprintf(w, "run directory: %s\n", out.RunDir)
	if _, err := os.Stat(out.ReportPath()); err == nil {
		fmt.Fprintf(w, "report: %s\n", out.ReportPath())
	}
	fmt.Fprintf(w, "reproduce: %s\n", m.Reproduce)
}

func cmdBugs(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bugs", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the catalogue as JSON")
	printUsage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: checker bugs [--json]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Lists raftd's planted bugs, what a client sees, and a `checker run` that exposes each.")
		fmt.Fprintln(w)
		printDefaults(w, fs)
	}
	err := parseFlagsOnly(fs, args)
	if err != nil {
		return flagError(err, "bugs", printUsage, stdout, stderr)
	}
	if *asJSON {
		return writeJSON(stdout, stderr, "bugs", bugsJSON())
	}
	for _, b := range bugs.Catalogue {
		kind := "safety"
		if b.Liveness {
			kind = "liveness"
		}
		fmt.Fprintf(stdout, "%s (%s)\n", b.Name, kind)
		fmt.Fprintf(stdout, "  what:        %s\n", b.What)
		fmt.Fprintf(stdout, "  exposed by:  %s\n", b.Exposed)
		fmt.Fprintf(stdout, "  client sees: %s\n", b.ClientSees)
		fmt.Fprintf(stdout, "  try:         %s\n\n", exposureCommand(b))
	}
	return 0
}

// exposureCommand is the `checker run` line of a bug's exposure.
func exposureCommand(b bugs.Bug) string {
	e := sweep.Exposures[b.Name]
	parts := []string{"checker run", "--bug " + b.Name, "--nemesis " + e.Nemesis, "--workload " + e.Workload}
	if e.ReadMode != "" {
		parts = append(parts, "--read-mode "+e.ReadMode)
	}
	if e.Read != "" {
		parts = append(parts, "--read "+e.Read)
	}
	if e.Nodes > 0 {
		parts = append(parts, fmt.Sprintf("--nodes %d", e.Nodes))
	}
	if e.Keys > 0 {
		parts = append(parts, fmt.Sprintf("--keys %d", e.Keys))
	}
	if e.Concurrency > 0 {
		parts = append(parts, fmt.Sprintf("--concurrency %d", e.Concurrency))
	}
	if e.Rate > 0 {
		parts = append(parts, fmt.Sprintf("--rate %g", e.Rate))
	}
	if e.Interval > 0 {
		parts = append(parts, "--interval "+e.Interval.String())
	}
	if e.MaxClockDrift > 0 {
		parts = append(parts, fmt.Sprintf("--max-clock-drift %g", e.MaxClockDrift))
	}
	if e.RequestTimeout > 0 {
		parts = append(parts, "--request-timeout "+e.RequestTimeout.String())
	}
	return strings.Join(parts, " ")
}

// anomalyOrder sorts anomaly kinds for printing: most to least frequent.
func anomalyOrder(counts map[string]int) []string {
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if counts[kinds[i]] != counts[kinds[j]] {
			return counts[kinds[i]] > counts[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	return kinds
}
