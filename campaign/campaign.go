package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"time"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
	"github.com/faultline/faultline/workload"
)

// Bounds of the finishing phases. They run on a context detached from the
// caller's (Ctrl-C must not stop the healing), so each needs its own limit.
const (
	healTimeout       = 60 * time.Second
	closeTimeout      = 2 * time.Minute
	progressInterval  = 250 * time.Millisecond
	leaderWaitDefault = 30 * time.Second
)

// Outcome is what a campaign produced.
type Outcome struct {
	RunDir   string
	Manifest store.Manifest
	// Result is nil when the history could not be checked (e.g. the
	// cluster never started).
	Result *check.Result
	// CheckErr says why the history could not be checked, or what was
	// wrong with it, when it was checked as far as it could be read.
	CheckErr error
}

// Status is campaign.json's final status.
func (o *Outcome) Status() string { return o.Manifest.Status }

// ExitCode maps the outcome to `checker run`'s exit code: the verdict's code
// (0 valid, 1 invalid, 2 unknown) for a complete campaign; 1 whenever a
// violation was found, even in an interrupted campaign (the evidence stands);
// otherwise 3, because an interrupted or failed campaign proves nothing.
func (o *Outcome) ExitCode() int {
	if o == nil {
		return 3
	}
	if o.Result != nil && o.Result.Valid == check.Invalid {
		return 1
	}
	if o.Manifest.Status != store.StatusComplete || o.Result == nil || o.CheckErr != nil {
		return 3
	}
	return o.Result.Valid.ExitCode()
}

// ReportPath is the run's report.html.
func (o *Outcome) ReportPath() string { return filepath.Join(o.RunDir, "report.html") }

// campaign is the state of one Run.
type campaign struct {
	opt      Options
	log      *slog.Logger
	progress Progress
	runDir   string
	started  time.Time

	rec     *history.Recorder
	man     store.Manifest
	manMu   sync.Mutex
	sys     system.System
	cluster runtime.Cluster
	poller  *statusPoller
	nem     *nemesis.Nemesis
	env     nemesis.Env
	wcfg    workload.Config

	phaseMu   sync.Mutex
	phase     string
	runStart  time.Time // when the workload began
	firstOpAt int64     // ns since started, 0 = none yet
}

// Run executes one campaign and writes its run directory. The error is
// non-nil when the campaign could not run at all (bad options, no runtime,
// the cluster did not start or elect a leader); the Outcome then still
// names the run directory when one was created. Once the cluster is up,
// every exit path — the end of --duration, a cancelled ctx (Ctrl-C), a
// failing workload or nemesis — heals every fault, waits for recovery,
// performs the final reads, closes the cluster and checks what was
// recorded; the final status says which path it was.
func Run(ctx context.Context, o Options, progress Progress) (*Outcome, error) {
	o = o.Normalized()
	if o.Bugs == nil {
		o.Bugs = []string{} // campaign.json lists "bugs": [], not null
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Seed == 0 {
		o.Seed = NewSeed()
	}
	if progress == nil {
		progress = NoProgress{}
	}
	sys, err := o.SystemUnderTest() // validated: cannot fail here
	if err != nil {
		return nil, err
	}
	sel, err := o.faultSelection(sys) // validated: cannot fail here
	if err != nil {
		return nil, err
	}
	c := &campaign{opt: o, sys: sys, progress: progress, started: time.Now()}
	name := o.CampaignName()
	runDir, stamp, err := store.CreateRun(o.Store, name, c.started)
	if err != nil {
		return nil, err
	}
	c.runDir = runDir
	out := &Outcome{RunDir: runDir}

	base := o.Log
	if base == nil {
		base = slog.Default()
	}
	logFile, err := os.Create(filepath.Join(runDir, store.LogFile))
	if err != nil {
		return out, fmt.Errorf("run directory %s: %w", runDir, err)
	}
	defer logFile.Close()
	c.log = slog.New(slog.NewMultiHandler(base.Handler(), slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))).
		With("run", name)

	c.rec, err = history.NewRecorder(filepath.Join(runDir, store.HistoryFile))
	if err != nil {
		return out, fmt.Errorf("run directory %s: %w", runDir, err)
	}
	owner := store.Self()
	c.man = store.Manifest{
		Name:         name,
		Timestamp:    stamp,
		Status:       store.StatusRunning,
		Command:      os.Args,
		Reproduce:    o.ReproduceCommand(),
		Seed:         o.Seed,
		Options:      o.manifestJSON(),
		Versions:     c.versions(),
		System:       c.describeSystem(),
		Owner:        &owner,
		NemesisKinds: kindNames(sel.Kinds),
		StartedAt:    c.started.UTC(),
		HistoryStart: c.rec.Start().UTC(),
	}
	if err := c.writeManifest(); err != nil {
		c.rec.Close()
		return out, fmt.Errorf("run directory %s: %w", runDir, err)
	}
	if err := store.PointLatest(o.Store, runDir); err != nil {
		c.log.Warn("could not point store/latest at the run", "err", err)
	}
	c.log.Info("campaign starting", "run_dir", runDir, "seed", o.Seed, "reproduce", c.man.Reproduce)

	stopProgress := c.startProgress()
	setupErr := c.execute(ctx, out)
	stopProgress()

	out.Manifest = c.manifest()
	if setupErr != nil {
		return out, setupErr
	}
	return out, nil
}

// execute runs the phases. It returns an error only for a setup failure.
func (c *campaign) execute(ctx context.Context, out *Outcome) error {
	o := c.opt
	c.setPhase(PhaseStarting)
	rt, err := runtime.NewWithOptions(o.Runtime, runtime.Options{Log: c.log, SourceRoot: sourceRoot(), Owner: c.man.Owner.String()})
	if err != nil {
		return c.setupFailed(ctx, fmt.Errorf("--runtime %s: %w", o.Runtime, err))
	}
	nodes := make([]string, o.Nodes)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("n%d", i+1)
	}
	label := clusterLabel(c.man.Name, c.man.Timestamp)
	c.updateManifest(func(m *store.Manifest) { m.Runtime, m.Nodes, m.Cluster = rt.Name(), nodes, label })
	if err := c.writeManifest(); err != nil {
		c.log.Warn("writing campaign.json", "err", err)
	}
	c.log.Info("starting cluster", "runtime", rt.Name(), "nodes", o.Nodes, "cluster", label)
	sel, _ := o.faultSelection(c.sys) // validated by Options.Validate
	spec := runtime.Spec{
		PowerLoss:  sel.NeedsRuntime(nemesis.OpPowerLoss),
		LinkFaults: sel.NeedsRuntime(nemesis.OpLinkFaults),
		Campaign:   label,
		Nodes:      nodes,
		System:     c.sys,
		LogDir:     filepath.Join(c.runDir, store.NodesDir),
	}
	cluster, err := rt.Start(ctx, spec)
	if err != nil {
		return c.setupFailed(ctx, fmt.Errorf("starting the %s cluster: %w", rt.Name(), err))
	}
	c.cluster = cluster
	c.log.Info("cluster serving", "runtime", rt.Name(), "after", time.Since(c.started).Round(time.Millisecond))

	poller, err := newStatusPoller(c.runDir, cluster, c.sys, c.rec)
	if err != nil {
		c.closeCluster()
		return c.setupFailed(ctx, err)
	}
	c.phaseMu.Lock() // report() reads it from the progress goroutine
	c.poller = poller
	c.phaseMu.Unlock()
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		if c.sys.Capabilities().Has(system.Status) {
			c.poller.run(pollCtx)
		}
	}()
	stopPoller := func() {
		stopPolling()
		<-pollDone
		if err := c.poller.close(); err != nil {
			c.log.Warn("writing nodes/status.jsonl", "err", err)
		}
	}

	c.setPhase(PhaseElection)
	if err := c.waitLeader(ctx); err != nil {
		stopPoller()
		c.closeCluster()
		return c.setupFailed(ctx, err)
	}

	c.wcfg = workload.Config{
		System:      c.sys,
		Workload:    o.Workload,
		Keys:        o.Keys,
		Concurrency: o.Concurrency,
		Rate:        o.Rate,
		Timeout:     o.RequestTimeout,
		StaleReads:  o.Read != "",
		Seed:        o.Seed,
	}
	c.env = nemesis.Env{
		Cluster: cluster,
		Admin:   c.sys.NewAdmin(clusterAddrs(cluster), o.RequestTimeout),
		Rec:     c.rec,
		Log:     c.log.With("part", "nemesis"),
	}
	nem := nemesis.New(c.env, nemesis.Options{
		Kinds:         sel.Kinds,
		Modes:         sel.Modes,
		Composites:    sel.Composites,
		Concurrent:    o.ConcurrentFaults,
		System:        c.sys.Name(),
		Capabilities:  c.sys.Capabilities(),
		Interval:      o.Interval,
		Seed:          o.Seed + 1, // its own stream, still fixed by --seed
		MaxNodes:      o.Nodes,
		MaxClockDrift: o.MaxClockDrift,
	})
	c.phaseMu.Lock() // report() reads it from the progress goroutine
	c.nem = nem
	c.phaseMu.Unlock()

	status, runErr := c.runPhase(ctx)
	c.finish(ctx, stopPoller)
	c.checkHistory(out)

	c.updateManifest(func(m *store.Manifest) {
		m.Status = status
		if runErr != nil {
			m.Error = joinMsg(m.Error, runErr.Error())
		}
		now := time.Now().UTC()
		m.EndedAt = &now
		if out.Result != nil {
			m.Verdict = out.Result.Valid.String()
		}
	})
	c.setPhase(PhaseDone) // also writes campaign.json
	if err := report.WriteRun(c.runDir); err != nil {
		c.log.Error("writing the report", "err", err)
	}
	if err := store.PointLatest(c.opt.Store, c.runDir); err != nil {
		c.log.Warn("could not point store/latest at the run", "err", err)
	}
	return nil
}

// setupFailed records a failure that left nothing to check.
func (c *campaign) setupFailed(ctx context.Context, err error) error {
	c.log.Error("campaign could not run", "err", err)
	status := store.StatusError
	if ctx.Err() != nil {
		status = store.StatusInterrupted
	}
	c.updateManifest(func(m *store.Manifest) {
		m.Status = status
		m.Error = err.Error()
		now := time.Now().UTC()
		m.EndedAt = &now
	})
	if cerr := c.rec.Close(); cerr != nil {
		c.log.Warn("closing history.jsonl", "err", cerr)
	}
	if werr := c.writeManifest(); werr != nil {
		c.log.Error("writing campaign.json", "err", werr)
	}
	// The report of a run that could not start still says why.
	if rerr := report.WriteRun(c.runDir); rerr != nil {
		c.log.Warn("writing the report", "err", rerr)
	}
	return err
}

func kindNames(kinds []nemesis.Kind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// NewSeed picks a seed from the clock, short enough to read and type.
func NewSeed() int64 { return time.Now().UnixNano()%1_000_000_000 + 1 }

// versions is the build of this binary plus the revision of the source
// tree raftd is built from.
func (c *campaign) versions() store.Versions {
	v := BuildVersions()
	v.SourceRevision = gitRevision(sourceRoot())
	return v
}

// sourceRoot is the module the runtimes build raftd from: the one around the
// working directory, else the one this binary was built from (so that an
// installed checker works from any directory while its checkout exists).
// "" leaves the runtime to report what is missing.
func sourceRoot() string {
	if root, err := runtime.FindModuleRoot("."); err == nil {
		return root
	}
	if _, file, _, ok := goruntime.Caller(0); ok {
		if root, err := runtime.FindModuleRoot(filepath.Dir(file)); err == nil {
			return root
		}
	}
	return ""
}

// guard runs f, turning a panic into an error so that a bug in one part
// cannot skip the healing of the others.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %v", what, r)
		}
	}()
	return f()
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// clusterLabel is the runtime's campaign name: unique per run and valid in
// docker container and network names.
func clusterLabel(name, stamp string) string {
	b := []byte(name + "-" + stamp)
	for i, ch := range b {
		switch {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '-', ch == '.', ch == '_':
		case ch >= 'A' && ch <= 'Z':
			b[i] = ch + 'a' - 'A'
		default:
			b[i] = '-'
		}
	}
	return string(b)
}

// describeSystem is campaign.json's "system": what the system under test is.
func (c *campaign) describeSystem() json.RawMessage {
	b, err := json.Marshal(system.Describe(c.sys))
	if err != nil {
		c.log.Warn("describing the system under test", "err", err)
		return nil
	}
	return b
}
