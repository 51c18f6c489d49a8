package campaign

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/store"
)

// processOptions is a short campaign on the process runtime: no Docker
// needed, real raftd processes, real partitions through the link proxies,
// real kill -9.
func processOptions(t *testing.T, seed int64) Options {
	o := DefaultOptions()
	o.Runtime = "process"
	o.Nodes = 3
	o.Duration = 10 * time.Second
	o.Nemesis = "partition,kill"
	o.Interval = 2 * time.Second
	o.Concurrency = 6
	o.Keys = 4
	o.Seed = seed
	o.Store = t.TempDir()
	o.RecoveryTimeout = 20 * time.Second
	o.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return o
}

// testWriter sends log output to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// phaseRecorder is a Progress that keeps every phase it saw, in order.
type phaseRecorder struct {
	mu     sync.Mutex
	phases []string
	last   Snapshot
}

func (p *phaseRecorder) Update(s Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.phases) == 0 || p.phases[len(p.phases)-1] != s.Phase {
		p.phases = append(p.phases, s.Phase)
	}
	p.last = s
}

func TestCampaignProcessCorrectRaftdIsValid(t *testing.T) {
	if testing.Short() {
		t.Skip("campaign end-to-end: skipped with -short")
	}
	t.Parallel()
	o := processOptions(t, 11)
	progress := &phaseRecorder{}
	out, err := Run(context.Background(), o, progress)
	if err != nil {
		t.Fatalf("campaign could not run: %v", err)
	}
	m := readManifest(t, out.RunDir)
	if m.Status != store.StatusComplete || out.Result == nil || out.Result.Valid != check.Valid {
		t.Fatalf("status %s, error %q, result %+v", m.Status, m.Error, out.Result)
	}
	if out.ExitCode() != 0 {
		t.Fatalf("exit code %d", out.ExitCode())
	}
	if len(out.Result.Anomalies) != 0 {
		t.Fatalf("correct raftd got anomalies: %+v", out.Result.Anomalies)
	}
	assertRunDir(t, o, out, m)

	// The phases ran in order and the finishing ones were not skipped.
	want := []string{PhaseStarting, PhaseElection, PhaseRunning, PhaseHealing, PhaseRecovering, PhaseFinalReads, PhaseClosing, PhaseChecking, PhaseDone}
	if strings.Join(progress.phases, ",") != strings.Join(want, ",") {
		t.Fatalf("phases %v, want %v", progress.phases, want)
	}
	if progress.last.Ok == 0 {
		t.Fatal("progress never counted an ok operation")
	}

	// The history holds nemesis events of both kinds, each start with an end.
	events, err := history.ReadFile(filepath.Join(out.RunDir, store.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string]int{}
	for _, e := range events {
		if e.Process.Nemesis {
			if k, ok := strings.CutSuffix(e.F, "-start"); ok {
				starts[k]++
			} else if k, ok := strings.CutSuffix(e.F, "-end"); ok {
				starts[k]--
			}
		}
	}
	if len(starts) == 0 {
		t.Fatal("no fault was injected")
	}
	for k, open := range starts {
		if open != 0 {
			t.Errorf("fault %s: %d starts without an end", k, open)
		}
	}
	assertNoProcessLeft(t, m.Cluster)
}

func TestCampaignProcessLocalReadsAreStale(t *testing.T) {
	if testing.Short() {
		t.Skip("campaign end-to-end: skipped with -short")
	}
	t.Parallel()
	o := processOptions(t, 12)
	o.Read = "local"
	o.Nemesis = "partition"
	out, err := Run(context.Background(), o, nil)
	if err != nil {
		t.Fatalf("campaign could not run: %v", err)
	}
	if out.Result == nil || out.Result.Valid != check.Invalid {
		t.Fatalf("local reads under partitions should be caught: %+v", out.Result)
	}
	if out.Result.Counts[check.StaleRead] == 0 {
		t.Fatalf("no stale read among the anomalies: %v", out.Result.Counts)
	}
	if out.ExitCode() != 1 {
		t.Fatalf("exit code %d, want 1", out.ExitCode())
	}
	m := readManifest(t, out.RunDir)
	assertRunDir(t, o, out, m)
	assertNoProcessLeft(t, m.Cluster)
}

func TestCampaignInterruptedStillHealsAndChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("campaign end-to-end: skipped with -short")
	}
	t.Parallel()
	o := processOptions(t, 13)
	o.Duration = time.Minute // cut short below, as Ctrl-C would
	o.Nemesis = "kill,pause"
	ctx, cancel := context.WithCancel(context.Background())
	progress := &cancelAfterOps{cancel: cancel, after: 50}
	out, err := Run(ctx, o, progress)
	if err != nil {
		t.Fatalf("campaign could not run: %v", err)
	}
	m := readManifest(t, out.RunDir)
	if m.Status != store.StatusInterrupted {
		t.Fatalf("status %q, want interrupted", m.Status)
	}
	if out.Result == nil || out.Result.Valid != check.Valid {
		t.Fatalf("what was recorded should still be checked, and be valid: %+v", out.Result)
	}
	if out.ExitCode() != 3 {
		t.Fatalf("an interrupted valid run must not pass: exit %d", out.ExitCode())
	}
	var runningAt time.Duration
	for _, p := range m.Phases {
		if p.Phase == PhaseRunning {
			runningAt = time.Duration(p.AtNs)
		}
	}
	if runningAt == 0 || m.EndedAt == nil || m.EndedAt.Sub(m.StartedAt.Add(runningAt)) >= o.Duration {
		t.Fatalf("interrupt did not end the run early: started %v, running after %v, ended %v", m.StartedAt, runningAt, m.EndedAt)
	}
	for _, f := range []string{store.ResultsFile, "report.html", filepath.Join(store.NodesDir, "n1.log")} {
		if _, err := os.Stat(filepath.Join(out.RunDir, f)); err != nil {
			t.Errorf("%s missing after interrupt: %v", f, err)
		}
	}
	assertNoProcessLeft(t, m.Cluster)
}

// cancelAfterOps cancels the campaign once some operations completed.
type cancelAfterOps struct {
	cancel context.CancelFunc
	after  int
}

func (c *cancelAfterOps) Update(s Snapshot) {
	if s.Ok+s.Fail+s.Info >= c.after {
		c.cancel()
	}
}

func TestRunRefusesBadOptionsBeforeCreatingAnything(t *testing.T) {
	o := DefaultOptions()
	o.Store = t.TempDir()
	o.Nodes = 0
	out, err := Run(context.Background(), o, nil)
	if err == nil || !strings.Contains(err.Error(), "--nodes") || out != nil {
		t.Fatalf("got %v, %v", out, err)
	}
	if entries, _ := os.ReadDir(o.Store); len(entries) != 0 {
		t.Fatalf("store not empty: %v", entries)
	}
}

func readManifest(t *testing.T, runDir string) store.Manifest {
	t.Helper()
	m, err := store.ReadManifest(runDir)
	if err != nil {
		t.Fatal(err)
	}
	if m.FormatVersion != store.FormatVersion {
		t.Errorf("campaign.json format_version %d, want %d", m.FormatVersion, store.FormatVersion)
	}
	return *m
}

// assertRunDir checks the store layout of docs/store.md.
func assertRunDir(t *testing.T, o Options, out *Outcome, m store.Manifest) {
	t.Helper()
	var recorded Options
	if err := json.Unmarshal(m.Options, &recorded); err != nil {
		t.Errorf("manifest options: %v", err)
	}
	if me := store.Self(); m.Owner == nil || m.Owner.Host != me.Host || m.Owner.PID != me.PID || !m.Owner.Start.Equal(me.Start) {
		t.Errorf("manifest owner %+v, want this process %+v", m.Owner, store.Self())
	}
	if m.Seed != o.Seed || recorded.Seed != o.Seed || m.Runtime != "process" || len(m.Nodes) != o.Nodes {
		t.Errorf("manifest: seed %d/%d runtime %q nodes %v", m.Seed, recorded.Seed, m.Runtime, m.Nodes)
	}
	if !strings.Contains(m.Reproduce, "--seed "+itoa(o.Seed)) || m.Versions.Go == "" || m.EndedAt == nil {
		t.Errorf("manifest: reproduce %q versions %+v ended %v", m.Reproduce, m.Versions, m.EndedAt)
	}
	if m.FirstOpNs <= 0 {
		t.Errorf("first operation time not recorded")
	}
	for _, f := range []string{store.HistoryFile, store.ResultsFile, "report.html", "junit.xml", "campaign.log"} {
		if st, err := os.Stat(filepath.Join(out.RunDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	for _, id := range m.Nodes {
		if _, err := os.Stat(filepath.Join(out.RunDir, store.NodesDir, id+".log")); err != nil {
			t.Errorf("node log of %s not collected: %v", id, err)
		}
	}
	// status.jsonl: parseable lines, and some node said it leads.
	f, err := os.Open(filepath.Join(out.RunDir, store.NodesDir, store.StatusFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, leaders := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l store.StatusLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("status.jsonl line %d: %v", lines+1, err)
		}
		lines++
		if l.Role == "leader" {
			leaders++
		}
	}
	if lines == 0 || leaders == 0 {
		t.Errorf("status.jsonl: %d lines, %d leader lines", lines, leaders)
	}
	target, err := os.Readlink(filepath.Join(o.Store, store.LatestLink))
	if err != nil || filepath.Join(o.Store, target) != out.RunDir {
		t.Errorf("store/latest -> %q (%v), want %s", target, err, out.RunDir)
	}
}

// assertNoProcessLeft fails when a process of the cluster still runs.
func assertNoProcessLeft(t *testing.T, label string) {
	t.Helper()
	if label == "" {
		t.Fatal("campaign.json lacks the cluster label")
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if strings.Contains(string(b), label) {
			t.Errorf("process left behind: %s: %q", p, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
