package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/campaign/sweep"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
)

// fixtureStore copies report's fixture store (a valid run, an invalid one,
// one still running, one with a broken campaign.json) and adds a finished
// sweep that missed a bug.
func fixtureStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(dir, os.DirFS("../../report/testdata/store")); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	m := sweep.Matrix{StartedAt: end.Add(-time.Hour), EndedAt: &end, Planned: 3, Done: 3,
		Bugs: []sweep.BugRow{
			{Bug: "stale-local-read", Detected: 1, Total: 1, Planned: 1},
			{Bug: "no-dedup", Detected: 0, Total: 1, Planned: 1},
		},
		Controls: sweep.ControlRow{Valid: 1, Total: 1},
		Failures: []string{"safety bug no-dedup went undetected in all 1 runs"},
	}
	sweepDir := filepath.Join(dir, store.SweepsDir, "20261206T010000Z")
	if err := os.MkdirAll(sweepDir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sweepDir, sweep.MatrixFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sweepDir, sweep.PageFile), []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSummaryOfAStore(t *testing.T) {
	dir := fixtureStore(t)
	code, out, errOut := runCLI(t, "summary", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"4 run(s): 1 invalid, 2 incomplete, 1 valid; 1 sweep(s)",
		"sweep sweeps/20261206T010000Z: FAIL (3 of 3 campaigns, controls valid 1/1)",
		"FAIL: safety bug no-dedup went undetected in all 1 runs",
		"run register-partition/20261127T030000Z: invalid; anomalies: stale-read 1",
		"  reproduce: checker run --runtime process --nodes 3 --duration 4s",
		"run append-all/20261127T040000Z: incomplete (running)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	code, md, _ := runCLI(t, "summary", "--markdown", "--link-base", "https://ci.example/artifacts/store", dir)
	for _, want := range []string{
		"## Faultline: 4 run(s), 1 invalid, 2 incomplete, 1 valid; latest sweep FAIL",
		"| `sweeps/20261206T010000Z` | ❌ fail | 3/3 | stale-local-read 1/1, no-dedup 0/1 | valid 1/1 | [page](https://ci.example/artifacts/store/sweeps/20261206T010000Z/index.html) |",
		"| `register-partition/20261127T030000Z` | ❌ invalid | register | partition,kill | stale-read 1 |",
		"| `register-none/20261127T020000Z` | ✅ valid |",
		"reproduce: checker run --runtime process --nodes 3 --duration 1s --workload register --nemesis none --seed 7 --name register-none",
	} {
		if code != 0 || !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	code, js, _ := runCLI(t, "summary", "--json", dir)
	var s storeSummary
	if err := json.Unmarshal([]byte(js), &s); err != nil || code != 0 {
		t.Fatalf("exit %d, JSON: %v\n%s", code, err, js)
	}
	if len(s.Runs) != 4 || len(s.Sweeps) != 1 || s.Sweeps[0].Pass || s.Runs[1].Verdict != "invalid" {
		t.Errorf("JSON summary: %d runs, %d sweeps: %+v", len(s.Runs), len(s.Sweeps), s)
	}
}

func TestSummaryOfARunDirectory(t *testing.T) {
	dir := fixtureStore(t)
	run := filepath.Join(dir, "register-partition", "20261127T030000Z")
	code, out, _ := runCLI(t, "summary", run)
	if code != 0 || !strings.HasPrefix(out, "run register-partition/20261127T030000Z: invalid; anomalies: stale-read 1\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "summary", "--json", "--markdown", run); code != exitCannotGo || !strings.Contains(errOut, "exclude each other") {
		t.Errorf("--json with --markdown: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "summary", filepath.Join(dir, "nothing")); code != exitCannotGo || !strings.Contains(errOut, "nothing") {
		t.Errorf("missing path: exit %d %s", code, errOut)
	}
}

// TestStoreIndexWorksOffline writes index.html for the fixture store and
// follows every link on it as a browser would from the file system.
func TestStoreIndexWorksOffline(t *testing.T) {
	dir := fixtureStore(t)
	// Give one run a report, as a finished campaign has.
	if err := os.WriteFile(filepath.Join(dir, "register-none", "20261127T020000Z", store.ReportFile), []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	writeStoreIndex(dir, &stderr)
	if stderr.Len() > 0 {
		t.Fatal(stderr.String())
	}
	page, err := os.ReadFile(filepath.Join(dir, report.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{`class="invalid">invalid`, `class="valid">valid`, "sweeps/20261206T010000Z", `class="fail">fail`,
		"checker run --runtime process --nodes 3 --duration 1s", `<a class="dot valid" href="register-none/20261127T020000Z/report.html"`} {
		if !strings.Contains(html, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	links := regexp.MustCompile(`(?:href|src)="([^"]*)"`).FindAllStringSubmatch(html, -1)
	if len(links) < 3 {
		t.Fatalf("only %d links on the index", len(links))
	}
	for _, l := range links {
		target := l[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "/") {
			t.Errorf("link %q is not relative: the page would need a server or the network", target)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(target))); err != nil {
			t.Errorf("link %q leads nowhere: %v", target, err)
		}
	}
}
