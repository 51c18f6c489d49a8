package serve

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/store"
)

// findChromium returns a headless-capable browser (Debian's chromium
// package). Without one the test fails under CI=true and skips otherwise.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium is installed: the browser test cannot run (apt-get install chromium)")
	}
	t.Skip("no chromium installed; set CI=true to make this a failure")
	return ""
}

// screenshotDir is where the browser test leaves its screenshots:
// $FAULTLINE_SCREENSHOT_DIR (relative to the module root) or the test's own
// temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("FAULTLINE_SCREENSHOT_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir) // tests run in serve/
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts headless Chromium for one test; it is closed when the
// test ends or after bound.
func newBrowser(t *testing.T, bound time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(findChromium(t)),
		chromedp.NoSandbox, // the tests run as root in a container
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
		chromedp.WindowSize(1280, 1400),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelCtx)
	ctx, cancel := context.WithTimeout(ctx, bound)
	t.Cleanup(cancel)
	return ctx
}

// TestBrowserLoadsRunsAndReport drives headless Chromium through the runs
// table into a report and checks what a person would see: the verdict, the
// plots, the drawn timeline, and an anomaly link that selects its operation.
func TestBrowserLoadsRunsAndReport(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	ts := newTestServer(t, nil)

	const invalidRow = `tr[data-id="register-partition/20261127T030000Z"]`
	step(t, ctx, "runs table", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(`#runs tr.run`))
	rows := value(t, ctx, "count rows", chromedp.Evaluate[int](`document.querySelectorAll("#runs tr.run").length`))
	verdictCell := value(t, ctx, "verdict cell", chromedp.Text(invalidRow+` .verdict`))
	runsShot := value(t, ctx, "runs screenshot", chromedp.CaptureScreenshot())
	if rows != 4 {
		t.Errorf("runs table shows %d runs, want 4", rows)
	}
	if !strings.EqualFold(strings.TrimSpace(verdictCell), "invalid") {
		t.Errorf("verdict cell %q, want invalid", verdictCell)
	}

	step(t, ctx, "open the report", chromedp.Click(invalidRow+` a.report-link`), chromedp.WaitVisible(`#verdict`),
		chromedp.WaitReady(`#tl-canvas[data-drawn="1"]`))
	verdictWord := value(t, ctx, "verdict", chromedp.Text(`#verdict .verdict-word`))
	verdictColor := value(t, ctx, "verdict colour", chromedp.Evaluate[string](`getComputedStyle(document.getElementById("verdict")).backgroundColor`))
	drawnOps := value(t, ctx, "timeline", chromedp.Evaluate[int](`Number(document.getElementById("tl-canvas").getAttribute("data-ops"))`))
	figures := value(t, ctx, "plots", chromedp.Evaluate[int](`document.querySelectorAll("figure.plot svg").length`))
	// A plot counts as rendered when it has real width and drew its marks.
	plotWidths := value(t, ctx, "plot sizes", chromedp.Evaluate[[]float64](
		`Array.from(document.querySelectorAll("figure.plot svg")).map(s => s.getBoundingClientRect().width * (s.querySelectorAll("path").length > 10 ? 1 : 0))`))
	reportShot := value(t, ctx, "report screenshot", chromedp.CaptureScreenshot())
	whole := value(t, ctx, "timeline window", chromedp.Text(`#tl-window`))
	step(t, ctx, "zoom in", chromedp.Click(`button[data-zoom="in"]`))
	zoomed := value(t, ctx, "zoomed window", chromedp.Text(`#tl-window`))
	step(t, ctx, "follow an anomaly's op link", chromedp.Click(`a.opref[data-op="8"]`))
	detail := value(t, ctx, "op detail", chromedp.Text(`#tl-detail`))
	if whole == zoomed || !strings.Contains(zoomed, "operations in view") {
		t.Errorf("zooming in left the window at %q (was %q)", zoomed, whole)
	}
	if verdictWord != "NOT LINEARIZABLE" {
		t.Errorf("verdict banner %q", verdictWord)
	}
	if verdictColor != "rgb(183, 28, 28)" {
		t.Errorf("verdict banner colour %q, want the invalid red", verdictColor)
	}
	if figures != 4 {
		t.Errorf("%d plots rendered, want 4", figures)
	}
	for i, w := range plotWidths {
		if w < 300 {
			t.Errorf("plot %d rendered %.0f px wide (or empty)", i, w)
		}
	}
	if drawnOps != 16 {
		t.Errorf("timeline drew %d operations, want 16", drawnOps)
	}
	if !strings.Contains(detail, "op 8: read of k1 by process 3") {
		t.Errorf("clicking the anomaly's op link shows %q", detail)
	}
	fullShot := value(t, ctx, "full screenshot", chromedp.FullScreenshot(100))
	// report.png goes where FAULTLINE_SCREENSHOT_DIR says (docs/ for the
	// README); the others stay in the test's own output directory.
	dir, scratch := screenshotDir(t), t.TempDir()
	for _, shot := range []struct {
		dir, name string
		png       []byte
	}{{dir, "report.png", reportShot}, {scratch, "runs.png", runsShot}, {scratch, "report-full.png", fullShot}} {
		if len(shot.png) < 1000 || string(shot.png[1:4]) != "PNG" {
			t.Errorf("screenshot %s is not a PNG (%d bytes)", shot.name, len(shot.png))
			continue
		}
		if err := os.WriteFile(filepath.Join(shot.dir, shot.name), shot.png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots: %s/report.png, %s/{runs,report-full}.png", dir, scratch)
}

// TestBrowserCancelsARunningCampaign launches a real campaign (process
// runtime) through the API, clicks the Cancel button on its page in headless
// Chromium, and checks that the campaign ends cancelled, its run is marked
// interrupted in the store, and the queue runs nothing any more.
func TestBrowserCancelsARunningCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("campaign end-to-end: skipped with -short")
	}
	ctx := newBrowser(t, 3*time.Minute)
	ts := newLaunchingServer(t)
	// Ten minutes: it only ends early because Cancel is clicked.
	ts.do(t, "POST", "/api/campaigns", "application/json",
		`{"name": "cancelled-in-browser", "runtime": "process", "nodes": 3, "duration": "10m", "nemesis": "none", "seed": 7, "concurrency": 2, "keys": 2}`, nil).
		wantCode(t, 202, "launch")
	waitJobFor(t, ts, "c1", 2*time.Minute, func(j JobView) bool { return j.Progress.Phase == campaign.PhaseRunning })

	step(t, ctx, "campaign page", chromedp.Navigate(ts.URL+"/campaigns/c1"), chromedp.WaitVisible(`#cancel`))
	step(t, ctx, "click Cancel", chromedp.Click(`#cancel`),
		chromedp.WaitReady(`#job[data-state="cancelled"]`), chromedp.WaitNotVisible(`#cancel-form`))
	shown := value(t, ctx, "state shown", chromedp.Text(`#job-state`))

	j := waitJob(t, ts, "c1", nil)
	if shown != JobCancelled || j.State != JobCancelled {
		t.Fatalf("after clicking Cancel the page shows %q and the API %+v", shown, j)
	}
	m, err := store.ReadManifest(filepath.Join(ts.store, filepath.FromSlash(j.RunID)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != store.StatusInterrupted {
		t.Errorf("run %s has status %q, want interrupted", j.RunID, m.Status)
	}
	if queued, running := ts.srv.queue.counts(); queued != 0 || running != 0 {
		t.Errorf("after the cancel the queue holds %d queued and %d running campaigns", queued, running)
	}
}

// step runs browser actions, failing the test with what was being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one browser action and returns its result.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}
