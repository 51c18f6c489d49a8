package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/sut/bugs"
)

func TestBugsAndVersionJSON(t *testing.T) {
	code, out, _ := runCLI(t, "bugs", "--json")
	var list []bugJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 || len(list) != len(bugs.Catalogue) {
		t.Fatalf("exit %d, %d bugs, %v", code, len(list), err)
	}
	if list[0].Name != bugs.Catalogue[0].Name || !strings.HasPrefix(list[0].Try, "checker run --bug "+list[0].Name) {
		t.Errorf("first bug = %+v", list[0])
	}
	code, out, _ = runCLI(t, "version", "--json")
	var v buildVersion
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v.Go == "" || v.Version == "" {
		t.Fatalf("version --json: exit %d %v %s", code, err, out)
	}
	if code, out, _ := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "checker "+v.Version) || !strings.Contains(out, v.Go) {
		t.Errorf("version: exit %d %q", code, out)
	}
}

func TestCheckJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "check", "--json", "testdata/stale.jsonl")
	var got checkOutcome
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if code != exitInvalid || got.ExitCode != exitInvalid || got.Verdict != "invalid" || len(got.Result.Anomalies) == 0 {
		t.Errorf("exit %d, outcome %+v", code, got)
	}
	if !strings.Contains(errOut, "verdict: invalid") {
		t.Errorf("the text verdict belongs on stderr with --json: %q", errOut)
	}
}

// TestRunSeries runs two short campaigns on the process runtime: seeds
// follow --seed, both are recorded, the store's index lists them.
func TestRunSeries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two campaigns")
	}
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "run", "--runtime", "process", "--nodes", "3", "--duration", "1s", "--nemesis", "none",
		"--seed", "5", "--count", "2", "--until", "invalid", "--json", "--store", dir)
	var s runSeries
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("exit %d, stdout not JSON: %v\n%s\n%s", code, err, out, errOut)
	}
	if code != exitValid || s.ExitCode != exitValid || len(s.Runs) != 2 {
		t.Fatalf("exit %d, series %+v\n%s", code, s, errOut)
	}
	if s.Runs[0].Seed != 5 || s.Runs[1].Seed != 6 || s.Runs[0].Verdict != "valid" || s.Runs[0].RunDir == s.Runs[1].RunDir {
		t.Errorf("runs = %+v", s.Runs)
	}
	if !strings.Contains(errOut, "series: 2 of 2 run(s): 2 valid, 0 invalid") {
		t.Errorf("no series line on stderr:\n%s", errOut)
	}
	page, err := os.ReadFile(filepath.Join(dir, report.IndexFile))
	if err != nil || strings.Count(string(page), `class="valid">valid`) != 2 {
		t.Errorf("store index after the series: %v", err)
	}
	if code, _, errOut := runCLI(t, "run", "--count", "0"); code != exitCannotGo || !strings.Contains(errOut, "--count must be at least 1") {
		t.Errorf("--count 0: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "run", "--until", "never"); code != exitCannotGo || !strings.Contains(errOut, "--until must be invalid or fail") {
		t.Errorf("--until never: exit %d %s", code, errOut)
	}
}

func TestSeriesRules(t *testing.T) {
	inv := runExtras{count: 5, until: untilInvalid}
	fail := runExtras{count: 5, until: untilFail}
	all := runExtras{count: 5}
	for _, c := range []struct {
		e    runExtras
		code int
		stop bool
	}{
		{inv, exitInvalid, true}, {inv, exitUnknown, false}, {inv, exitValid, false},
		{fail, exitUnknown, true}, {fail, exitCannotGo, true}, {fail, exitValid, false},
		{all, exitInvalid, false},
	} {
		if got := c.e.stops(c.code); got != c.stop {
			t.Errorf("--until %q stops on exit %d = %v, want %v", c.e.until, c.code, got, c.stop)
		}
	}
	if worseExit(exitValid, exitUnknown) != exitUnknown || worseExit(exitInvalid, exitCannotGo) != exitInvalid || worseExit(exitCannotGo, exitValid) != exitCannotGo {
		t.Error("worseExit does not rank invalid over unknown over could-not-run over valid")
	}
}
