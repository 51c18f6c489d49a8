package serve

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/campaign"
)

// newLaunchingServer serves an empty store and runs the campaigns it queues
// with campaign.Run; the server is shut down when the test ends.
func newLaunchingServer(t *testing.T) *testServer {
	t.Helper()
	storeDir := t.TempDir()
	s, err := NewServer(ServerOptions{Store: storeDir, Launch: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return &testServer{Server: hs, srv: s, store: storeDir}
}

// TestQueueRunsARealCampaign launches through the API with campaign.Run on
// the process runtime: options in, run directory in the store out, the
// campaign's own progress shown.
func TestQueueRunsARealCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("campaign end-to-end: skipped with -short")
	}
	ts := newLaunchingServer(t)
	storeDir, s := ts.store, ts.srv
	ts.do(t, "POST", "/api/campaigns", "application/json",
		`{"name": "launched", "runtime": "process", "nodes": 3, "duration": "2s", "nemesis": "none", "seed": 5, "concurrency": 2, "keys": 2}`, nil).
		wantCode(t, 202, "launch")
	j := waitJobFor(t, ts, "c1", 3*time.Minute, func(j JobView) bool { return j.State != JobQueued && j.State != JobRunning })
	if j.State != JobDone || !strings.HasPrefix(j.RunID, "launched/") {
		t.Fatalf("campaign: %+v", j)
	}
	if j.Progress.Phase != campaign.PhaseDone || j.Progress.Ok == 0 {
		t.Errorf("the campaign's progress is not shown: %+v", j.Progress)
	}
	o, err := campaign.LoadOptions(filepath.Join(storeDir, filepath.FromSlash(j.RunID)))
	if err != nil {
		t.Fatal(err)
	}
	if o.Seed != 5 || o.Nodes != 3 || o.Runtime != "process" || o.Nemesis != "none" || o.Store != s.Store() {
		t.Fatalf("recorded options %+v", o)
	}
}
