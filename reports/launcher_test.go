package reports

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixtureLauncher stands in for campaign.Run behind the Launcher interface:
// it writes a real run directory (campaign.json, a history streamed line by
// line from a fixture, results.json) and then reports it with WriteRun, the
// way a campaign does. A gate lets a test hold the campaign mid-run.
type fixtureLauncher struct {
	t        testing.TB
	store    string
	fixture  string        // run directory whose history and results are replayed
	gate     chan struct{} // when set, the campaign waits for it (or ctx) after its history
	reported bool          // call req.Progress like a campaign with a progress callback

	mu         sync.Mutex
	running    int
	maxRunning int
	names      []string
	wrote      chan string // receives each run directory once its history is written
}

func newFixtureLauncher(t testing.TB, store string) *fixtureLauncher {
	return &fixtureLauncher{t: t, store: store, fixture: filepath.Join("testdata", "store", invalidRun), wrote: make(chan string, 16)}
}

func (l *fixtureLauncher) Launch(ctx context.Context, req LaunchRequest) (string, error) {
	l.mu.Lock()
	l.running++
	l.maxRunning = max(l.maxRunning, l.running)
	l.names = append(l.names, req.Name)
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.running--
		l.mu.Unlock()
	}()
	stamp := time.Now().UTC().Format("20060102T150405.000000000Z")
	dir := filepath.Join(l.store, req.Name, stamp)
	if err := os.MkdirAll(filepath.Join(dir, "nodes"), 0o755); err != nil {
		return "", err
	}
	manifest := map[string]any{
		"name": req.Name, "timestamp": stamp, "status": StatusRunning, "seed": req.Seed,
		"command": append([]string{"checker", "run"}, req.Args()...), "reproduce": req.Command(),
		"options":    map[string]any{"workload": req.Workload, "nemesis": req.Nemesis, "duration": int64(req.Duration), "nodes": req.Nodes},
		"started_at": time.Now().UTC().Format(time.RFC3339Nano),
	}
	if err := writeJSONFile(filepath.Join(dir, campaignFile), manifest); err != nil {
		return dir, err
	}
	lines := strings.SplitAfter(readFile(l.t, filepath.Join(l.fixture, historyFile)), "\n")
	f, err := os.Create(filepath.Join(dir, historyFile))
	if err != nil {
		return dir, err
	}
	ok := 0
	for _, line := range lines {
		if _, err := f.WriteString(line); err != nil {
			f.Close()
			return dir, err
		}
		if strings.Contains(line, `"type":"ok"`) {
			ok++
		}
		if l.reported && req.Progress != nil {
			req.Progress(LaunchProgress{RunDir: dir, Phase: "workload", Ok: ok, Total: req.Duration, Elapsed: req.Duration / 2})
		}
	}
	f.Close()
	l.wrote <- dir
	if l.gate != nil {
		select {
		case <-l.gate:
		case <-ctx.Done():
			// Like a campaign killed mid-run: its run is left "running".
			return dir, ctx.Err()
		}
	}
	results := readFile(l.t, filepath.Join(l.fixture, resultsFile))
	if err := os.WriteFile(filepath.Join(dir, resultsFile), []byte(results), 0o644); err != nil {
		return dir, err
	}
	manifest["status"] = StatusComplete
	if err := writeJSONFile(filepath.Join(dir, campaignFile), manifest); err != nil {
		return dir, err
	}
	return dir, WriteRun(dir)
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
