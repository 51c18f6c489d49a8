package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/faultline/faultline/sut/client"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/runtime/powerfs"
	"github.com/faultline/faultline/sut/system"
)

// `raftd soak` is a benchmark of durability, not a test: it kills raftd
// nodes with SIGKILL (or cuts their power: the kill plus the loss of every
// write not yet fsynced) again and again while an independent writer puts
// unique keys, and checks that every acknowledged write survives.

// soakOptions configure `raftd soak`.
type soakOptions struct {
	kills         int
	power         int
	nodes         int
	seed          uint64
	maxDown       time.Duration
	settle        time.Duration
	snapshotEvery int
	dir           string
	binary        string
	verbose       bool
}

func parseSoakFlags(args []string, stderr io.Writer) (soakOptions, error) {
	fs := flag.NewFlagSet("raftd soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := soakOptions{}
	fs.IntVar(&o.kills, "kills", 100, "kill -9 cycles: a random node or the leader, then a restart from its data")
	fs.IntVar(&o.power, "power", 0, "power-loss cycles instead of kills: the node is killed and its unsynced writes dropped (data on a powerfs FUSE mount; needs /dev/fuse and root)")
	fs.IntVar(&o.nodes, "nodes", 3, "cluster size")
	fs.Uint64Var(&o.seed, "seed", uint64(time.Now().UnixNano()), "seeds the choice of victims and down times")
	fs.DurationVar(&o.maxDown, "max-down", 500*time.Millisecond, "a killed node stays down a random time up to this")
	fs.DurationVar(&o.settle, "settle", time.Second, "time between a restart and the next kill (at least until a write is acknowledged again)")
	fs.IntVar(&o.snapshotEvery, "snapshot-every", 500, "raftd --snapshot-every, so restarts replay snapshots too")
	fs.StringVar(&o.dir, "dir", "", "directory for data and node logs (default: a temporary one, removed afterwards)")
	fs.StringVar(&o.binary, "binary", "", "raftd binary the nodes run (default: this one)")
	fs.BoolVar(&o.verbose, "v", false, "log every kill and restart")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.power < 0:
		return o, fmt.Errorf("--power: must not be negative, got %d", o.power)
	case o.kills < 1:
		return o, fmt.Errorf("--kills: must be at least 1, got %d", o.kills)
	case o.nodes < 3:
		return o, fmt.Errorf("--nodes: must be at least 3 (a majority must survive one kill), got %d", o.nodes)
	case o.maxDown < 0:
		return o, fmt.Errorf("--max-down: must not be negative, got %v", o.maxDown)
	case o.settle < 0:
		return o, fmt.Errorf("--settle: must not be negative, got %v", o.settle)
	case o.snapshotEvery < 1:
		return o, fmt.Errorf("--snapshot-every: must be at least 1, got %d", o.snapshotEvery)
	}
	return o, nil
}

// runSoak runs `raftd soak` and prints acknowledged, lost, wrong and the
// longest unavailability. It exits 1 when anything acknowledged was lost,
// read back wrong, or could not be read back at all.
func runSoak(args []string, stdout, stderr io.Writer) int {
	o, err := parseSoakFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "raftd soak: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := soak(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "raftd soak: %v\n", err)
		return exitFatal
	}
	res.print(stdout)
	if len(res.lost)+len(res.wrong)+len(res.unreadable) > 0 {
		return exitFatal
	}
	return exitOK
}

// soak starts a process cluster of this very binary (fsync on), runs the
// writer and the kill cycles, and verifies every acknowledged write.
func soak(ctx context.Context, o soakOptions, stdout, stderr io.Writer) (soakResult, error) {
	bin, err := o.binary, error(nil)
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return soakResult{}, fmt.Errorf("locate this binary: %w", err)
		}
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "raftd-soak-"); err != nil {
			return soakResult{}, err
		}
		defer os.RemoveAll(o.dir)
	}
	log := slog.New(slog.DiscardHandler)
	if o.verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ids := make([]string, o.nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
	}
	rt := runtime.NewProcess(runtime.Options{Log: log, WorkDir: o.dir})
	c, err := rt.Start(ctx, runtime.Spec{Campaign: "soak", Nodes: ids, LogDir: o.dir, PowerLoss: o.power > 0,
		System: system.Raftd(system.RaftdOptions{Binary: bin, SnapshotEvery: o.snapshotEvery})})
	if err != nil {
		return soakResult{}, fmt.Errorf("starting the cluster: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	fail, cycles, what := c.Kill, o.kills, "kills"
	if o.power > 0 {
		fail, cycles, what = powerFailure(c, o.seed), o.power, "power failures"
	}
	addrs := map[string]string{}
	for _, id := range ids {
		addrs[id] = c.ClientAddr(id)
	}
	fmt.Fprintf(stdout, "raftd soak: %d nodes (process runtime, fsync on, --snapshot-every %d), %d %s, seed %d\n",
		o.nodes, o.snapshotEvery, cycles, what, o.seed)

	w := newSoakWriter(client.New(addrs, client.Options{Timeout: time.Second, RetryIndefinite: 2, ClientID: "soak-writer"}))
	wctx, stopWriter := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.run(wctx) }()
	defer func() { stopWriter(); wg.Wait() }()

	reader := client.New(addrs, client.Options{Timeout: time.Second, ClientID: "soak-reader"})
	admin := client.New(addrs, client.Options{Timeout: 500 * time.Millisecond, ClientID: "soak-admin"})
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x5eed))
	res := soakResult{nodes: o.nodes, what: what, started: time.Now(),
		lost: map[string]bool{}, wrong: map[string]bool{}, unreadable: map[string]bool{}}
	if err := w.waitAckAfter(ctx, res.started); err != nil {
		return res, fmt.Errorf("before the first kill: %w", err)
	}
	for i := 1; i <= cycles; i++ {
		victim, wasLeader := pickVictim(ctx, admin, ids, rng)
		if wasLeader {
			res.leaderKills++
		}
		if err := fail(ctx, victim); err != nil {
			return res, fmt.Errorf("%s %d (%s): %w", what, i, victim, err)
		}
		sleepCtx(ctx, time.Duration(rng.Int64N(int64(o.maxDown)+1)))
		if err := c.Restart(ctx, victim); err != nil {
			return res, fmt.Errorf("restart %d (%s): %w", i, victim, err)
		}
		res.kills++
		restarted := time.Now()
		sleepCtx(ctx, o.settle)
		// The next kill hits a cluster that serves again.
		if err := w.waitAckAfter(ctx, restarted); err != nil {
			return res, fmt.Errorf("after restart %d (%s): %w", i, victim, err)
		}
		// Verify what was acknowledged since the last check while the
		// writer goes on.
		res.verify(ctx, reader, w.takeUnchecked(), false)
	}
	stopWriter()
	wg.Wait()
	res.ended = time.Now()
	res.absorb(w)
	// The final pass reads every key written, acknowledged or not.
	res.verify(ctx, reader, w.all(), true)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("interrupted in the final verification: %w", err)
	}
	return res, nil
}

// powerFailure returns a failure that cuts a node's power: a kill that also
// drops every write the node did not fsync (a torn suffix in every other
// cycle, drawn from seed).
func powerFailure(c runtime.Cluster, seed uint64) func(context.Context, string) error {
	pf, ok := c.(runtime.PowerFailer)
	if !ok {
		return func(context.Context, string) error {
			return errors.New("this runtime cannot cut power (process runtime only)")
		}
	}
	cycle := uint64(0)
	return func(ctx context.Context, id string) error {
		cycle++
		loss := powerfs.LoseUnsynced
		if cycle%2 == 0 {
			loss = powerfs.LoseTorn
		}
		_, err := pf.PowerFail(ctx, id, loss, seed+cycle)
		return err
	}
}

// pickVictim chooses the leader or a random node, half and half.
func pickVictim(ctx context.Context, admin *client.Client, ids []string, rng *rand.Rand) (string, bool) {
	if rng.IntN(2) == 0 {
		for _, id := range ids {
			st, err := admin.Status(ctx, id)
			if err == nil && st.Role == "leader" {
				return id, true
			}
		}
	}
	return ids[rng.IntN(len(ids))], false
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// soakWrite is one key the writer put, with its value and what the
// cluster said.
type soakWrite struct {
	key     string
	value   int64
	unknown bool // the outcome is unknown: it may or may not have applied
}

// soakWriter puts unique keys one at a time, so an acknowledged write is
// never overwritten and must read back exactly.
type soakWriter struct {
	c *client.Client

	mu         sync.Mutex
	writes     []soakWrite
	checked    int // writes[:checked] were verified during the run
	refused    int // definite failures, retried on the same key
	lastAck    time.Time
	longestGap time.Duration
	gapEndedAt time.Time
}

func newSoakWriter(c *client.Client) *soakWriter {
	return &soakWriter{c: c, lastAck: time.Now()}
}

func (w *soakWriter) run(ctx context.Context) {
	for n := int64(1); ctx.Err() == nil; n++ {
		key := fmt.Sprintf("soak-%07d", n)
		for ctx.Err() == nil {
			_, err := w.c.Put(ctx, key, n)
			if err == nil {
				w.acked(key, n)
				break
			}
			if ctx.Err() != nil {
				// Cut short by the end of the run: the outcome is unknown.
				w.record(soakWrite{key: key, value: n, unknown: true})
				return
			}
			if client.IsDefinite(err) {
				// Certainly not applied: the same key again.
				w.mu.Lock()
				w.refused++
				w.mu.Unlock()
				sleepCtx(ctx, 20*time.Millisecond)
				continue
			}
			w.record(soakWrite{key: key, value: n, unknown: true})
			break
		}
	}
}

func (w *soakWriter) acked(key string, value int64) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if gap := now.Sub(w.lastAck); gap > w.longestGap {
		w.longestGap, w.gapEndedAt = gap, now
	}
	w.lastAck = now
	w.writes = append(w.writes, soakWrite{key: key, value: value})
}

func (w *soakWriter) record(sw soakWrite) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, sw)
}

// recoveryBound is how long the cluster may go without acknowledging a
// write before the soak gives up on it.
const recoveryBound = 2 * time.Minute

// waitAckAfter waits until a write is acknowledged after t.
func (w *soakWriter) waitAckAfter(ctx context.Context, t time.Time) error {
	deadline := time.Now().Add(recoveryBound)
	for {
		w.mu.Lock()
		last := w.lastAck
		w.mu.Unlock()
		if last.After(t) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no write acknowledged for %v", recoveryBound)
		}
		sleepCtx(ctx, 10*time.Millisecond)
	}
}

// takeUnchecked returns the writes not yet verified during the run.
func (w *soakWriter) takeUnchecked() []soakWrite {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]soakWrite(nil), w.writes[w.checked:]...)
	w.checked = len(w.writes)
	return out
}

func (w *soakWriter) all() []soakWrite {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]soakWrite(nil), w.writes...)
}

// soakResult is what a soak measured.
type soakResult struct {
	nodes, kills, leaderKills int
	what                      string // "kills" or "power failures"
	started, ended            time.Time

	acknowledged, unknown, refused int
	unknownApplied                 int
	lost, wrong                    map[string]bool // keys found absent or changed, in any pass
	unreadable                     map[string]bool // keys no read reached within a minute
	problems                       []string        // the first few, for the report
	longestGap                     time.Duration
	gapEndedAt                     time.Time
}

func (r *soakResult) absorb(w *soakWriter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, sw := range w.writes {
		if sw.unknown {
			r.unknown++
		} else {
			r.acknowledged++
		}
	}
	r.refused = w.refused
	r.longestGap, r.gapEndedAt = w.longestGap, w.gapEndedAt
	if gap := r.ended.Sub(w.lastAck); gap > r.longestGap {
		r.longestGap, r.gapEndedAt = gap, r.ended
	}
}

// verify reads each write back linearizably: an acknowledged key must hold
// its value; an unknown one may be absent but never hold another value. In
// the final pass it also counts the unknown writes that applied.
func (r *soakResult) verify(ctx context.Context, c *client.Client, writes []soakWrite, final bool) {
	for _, sw := range writes {
		v, found, err := readBack(ctx, c, sw.key)
		switch {
		case err != nil:
			r.unreadable[sw.key] = true
			r.note("%s: unreadable: %v", sw.key, err)
		case !found && !sw.unknown:
			r.lost[sw.key] = true
			r.note("%s: acknowledged with %d, now absent", sw.key, sw.value)
		case found && fmt.Sprint(v) != fmt.Sprint(sw.value):
			r.wrong[sw.key] = true
			r.note("%s: written %d, read %v", sw.key, sw.value, v)
		case found && sw.unknown && final:
			r.unknownApplied++
		}
	}
}

func (r *soakResult) note(format string, a ...any) {
	if len(r.problems) < 10 {
		r.problems = append(r.problems, fmt.Sprintf(format, a...))
	}
}

// readBack retries a linearizable read through failures for up to a
// minute: a read that cannot be answered proves nothing either way.
func readBack(ctx context.Context, c *client.Client, key string) (any, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		v, found, _, err := c.Get(ctx, key, false)
		if err == nil {
			return v, found, nil
		}
		if ctx.Err() != nil {
			return nil, false, err
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

func (r soakResult) print(w io.Writer) {
	fmt.Fprintf(w, "%s: %d (%d of the leader, the rest a random node) over %s\n",
		r.what, r.kills, r.leaderKills, r.ended.Sub(r.started).Round(time.Second))
	fmt.Fprintf(w, "writes: %d acknowledged, %d unknown (%d of them applied), %d refused (definite, retried)\n",
		r.acknowledged, r.unknown, r.unknownApplied, r.refused)
	fmt.Fprintf(w, "lost: %d\nwrong: %d\nunreadable: %d\n", len(r.lost), len(r.wrong), len(r.unreadable))
	fmt.Fprintf(w, "longest unavailability: %.2f s (no write acknowledged until %s)\n",
		r.longestGap.Seconds(), r.gapEndedAt.UTC().Format("15:04:05.000"))
	sort.Strings(r.problems)
	for _, p := range r.problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
}
