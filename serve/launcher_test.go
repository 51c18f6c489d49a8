package serve

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
)

// fixtureLauncher stands in for campaign.Run in tests of the queue: it
// writes a real run directory through the store (campaign.json, a history
// recorded event by event from a fixture with history.Recorder, results.json),
// reports progress from the recorder's counts as campaign.Run does, and
// then writes the report. A gate lets a test hold the campaign mid-run.
type fixtureLauncher struct {
	t       testing.TB
	fixture string        // run directory whose history and results are replayed
	gate    chan struct{} // when set, the campaign waits for it (or ctx) after its history

	mu         sync.Mutex
	running    int
	maxRunning int
	names      []string
	wrote      chan string // receives each run directory once its history is written
}

func newFixtureLauncher(t testing.TB) *fixtureLauncher {
	return &fixtureLauncher{t: t, fixture: filepath.Join(fixtureStore, invalidRun), wrote: make(chan string, 16)}
}

func (l *fixtureLauncher) run(ctx context.Context, o campaign.Options, p campaign.Progress) (*campaign.Outcome, error) {
	name := o.CampaignName()
	l.mu.Lock()
	l.running++
	l.maxRunning = max(l.maxRunning, l.running)
	l.names = append(l.names, name)
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.running--
		l.mu.Unlock()
	}()
	dir, stamp, err := store.CreateRun(o.Store, name, time.Now())
	if err != nil {
		return nil, err
	}
	out := &campaign.Outcome{RunDir: dir}
	opts, _ := json.Marshal(o)
	owner := store.Self()
	m := store.Manifest{Name: name, Timestamp: stamp, Status: store.StatusRunning, Seed: o.Seed, Owner: &owner,
		Command: []string{"checker", "run"}, Reproduce: o.ReproduceCommand(), Options: opts, StartedAt: time.Now().UTC()}
	if err := store.WriteManifest(dir, m); err != nil {
		return out, err
	}
	events, err := history.ReadFile(filepath.Join(l.fixture, store.HistoryFile))
	if err != nil {
		return out, err
	}
	rec, err := history.NewRecorder(filepath.Join(dir, store.HistoryFile))
	if err != nil {
		return out, err
	}
	for _, e := range events {
		if _, _, err := rec.Record(e); err != nil {
			rec.Close()
			return out, err
		}
		c := rec.Counts()
		p.Update(campaign.Snapshot{RunDir: dir, Phase: campaign.PhaseRunning, Ok: c.Ok, Fail: c.Fail, Info: c.Info,
			Total: o.Duration, Elapsed: o.Duration / 2})
	}
	if err := rec.Close(); err != nil {
		return out, err
	}
	l.wrote <- dir
	if l.gate != nil {
		select {
		case <-l.gate:
		case <-ctx.Done():
			// Like a campaign killed mid-run: its run is left "running".
			return out, ctx.Err()
		}
	}
	res, err := report.ReadResults(os.DirFS(l.fixture), ".")
	if err != nil {
		return out, err
	}
	if err := store.WriteResults(dir, res); err != nil {
		return out, err
	}
	m.Status = store.StatusComplete
	if err := store.WriteManifest(dir, m); err != nil {
		return out, err
	}
	return out, report.WriteRun(dir)
}
