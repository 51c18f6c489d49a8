package sweep

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/bugs"
)

// run is a finished campaign as resultOf would report it.
func run(role, bug string, index int, verdict string, anomalies map[string]int, firstNs int64, ok, ops int) RunResult {
	name := "sweep-control"
	switch role {
	case RoleBug:
		name = "sweep-" + bug
	case RoleBaseline:
		name = "sweep-baseline-" + bug
	}
	r := RunResult{Role: role, Bug: bug, Index: index, Seed: int64(1 + index), Name: name,
		RunDir: name + "/20260101T00000" + string(rune('0'+index)) + "Z", Status: "complete", Verdict: verdict,
		Anomalies: anomalies, FirstAnomalyNs: firstNs, Ok: ok, Ops: ops}
	if firstNs > 0 {
		r.FirstAnomalyRunNs = firstNs - int64(3*time.Second)
	}
	if ops > 0 {
		r.Availability = float64(ok) / float64(ops)
	}
	return r
}

func matrixFor(t *testing.T, seeds int, names ...string) *Matrix {
	t.Helper()
	o := DefaultOptions()
	o.Seeds = seeds
	o.Bugs = names
	plan, err := o.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return newMatrix(o, plan)
}

func TestMatrixCountsDetectionsAndMedians(t *testing.T) {
	m := matrixFor(t, 3, bugs.StaleLocalRead, bugs.AckBeforeCommit)
	stale := map[string]int{"stale-read": 4}
	m.add(run(RoleBug, bugs.StaleLocalRead, 0, VerdictInvalid, stale, int64(9*time.Second), 90, 100))
	m.add(run(RoleBug, bugs.AckBeforeCommit, 0, VerdictValid, nil, 0, 90, 100))
	m.add(run(RoleControl, "", 0, VerdictValid, nil, 0, 80, 100))
	m.add(run(RoleBug, bugs.StaleLocalRead, 1, VerdictInvalid, map[string]int{"stale-read": 1, "non-linearizable": 1}, int64(5*time.Second), 90, 100))
	m.add(run(RoleBug, bugs.AckBeforeCommit, 1, VerdictUnknown, nil, 0, 90, 100))
	m.add(run(RoleControl, "", 1, VerdictValid, nil, 0, 80, 100))
	m.add(run(RoleBug, bugs.StaleLocalRead, 2, VerdictInvalid, stale, int64(20*time.Second), 90, 100))
	m.add(run(RoleBug, bugs.AckBeforeCommit, 2, VerdictInvalid, map[string]int{"lost-commit": 2}, int64(30*time.Second), 90, 100))
	m.add(run(RoleControl, "", 2, VerdictValid, nil, 0, 80, 100))

	s := m.Bugs[0]
	if s.Bug != bugs.StaleLocalRead || s.Detected != 3 || s.Total != 3 {
		t.Fatalf("stale-local-read row: %d/%d", s.Detected, s.Total)
	}
	if s.MedianFirstAnomalyNs != int64(9*time.Second) || s.MedianFirstAnomalyRunNs != int64(6*time.Second) {
		t.Errorf("median %d / %d, want 9 s / 6 s", s.MedianFirstAnomalyNs, s.MedianFirstAnomalyRunNs)
	}
	if s.KindRuns["stale-read"] != 3 || s.KindRuns["non-linearizable"] != 1 {
		t.Errorf("kind runs %v", s.KindRuns)
	}
	a := m.Bugs[1]
	if a.Detected != 1 || a.Total != 3 || a.MedianFirstAnomalyNs != int64(30*time.Second) {
		t.Errorf("ack-before-commit row: %d/%d median %d", a.Detected, a.Total, a.MedianFirstAnomalyNs)
	}
	if a.Runs[1].Detected || !strings.Contains(a.Runs[1].Why, "unknown") {
		t.Errorf("an unknown verdict must count as not detected: %+v", a.Runs[1])
	}
	if m.Controls.Valid != 3 || m.Controls.Total != 3 {
		t.Errorf("controls %d/%d", m.Controls.Valid, m.Controls.Total)
	}
	if !m.Pass || m.ExitCode() != ExitPass || len(m.Failures) != 0 {
		t.Errorf("pass %v exit %d failures %v", m.Pass, m.ExitCode(), m.Failures)
	}
}

func TestMatrixFailsOnFalsePositiveUnknownControlOrMissedBug(t *testing.T) {
	cases := []struct {
		name    string
		control string
		bug     string
		want    string
	}{
		{"false positive", VerdictInvalid, VerdictInvalid, "FALSE POSITIVE"},
		{"unknown control", VerdictUnknown, VerdictInvalid, "counted as not valid"},
		{"control that did not run", VerdictNone, VerdictInvalid, "counted as not valid"},
		{"bug never detected", VerdictValid, VerdictValid, "safety bug no-dedup went undetected in all 1 runs"},
		{"bug only unknown", VerdictValid, VerdictUnknown, "went undetected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := matrixFor(t, 1, bugs.NoDedup)
			var found map[string]int
			if c.bug == VerdictInvalid {
				found = map[string]int{"duplicate": 1}
			}
			m.add(run(RoleBug, bugs.NoDedup, 0, c.bug, found, int64(time.Second), 1, 2))
			var fp map[string]int
			if c.control == VerdictInvalid {
				fp = map[string]int{"stale-read": 1}
			}
			m.add(run(RoleControl, "", 0, c.control, fp, 0, 1, 2))
			if m.Pass || m.ExitCode() != ExitFail {
				t.Fatalf("pass %v exit %d, want a failing sweep", m.Pass, m.ExitCode())
			}
			if !strings.Contains(strings.Join(m.Failures, "\n"), c.want) {
				t.Fatalf("failures %q, want one saying %q", m.Failures, c.want)
			}
		})
	}
}

func TestLivenessBugJudgedByAvailabilityAgainstItsBaseline(t *testing.T) {
	m := matrixFor(t, 3, bugs.RemovedServerDisrupts)
	b := bugs.RemovedServerDisrupts
	// Seed 0: availability 60% vs 95%: detected. The bug run comes first,
	// as in the plan, and is judged again when its baseline arrives.
	m.add(run(RoleBug, b, 0, VerdictValid, nil, 0, 60, 100))
	if r := m.Bugs[0].Runs[0]; r.Detected || !strings.Contains(r.Why, "judged once its baseline") {
		t.Fatal("a liveness run must not be detected before its baseline is known")
	}
	m.add(run(RoleBaseline, b, 0, VerdictValid, nil, 0, 95, 100))
	// Seed 1: 90% vs 95%: within the margin, not detected.
	m.add(run(RoleBug, b, 1, VerdictValid, nil, 0, 90, 100))
	m.add(run(RoleBaseline, b, 1, VerdictValid, nil, 0, 95, 100))
	// Seed 2: low availability but not linearizable: not detected.
	m.add(run(RoleBug, b, 2, VerdictInvalid, map[string]int{"lost-commit": 1}, int64(time.Second), 10, 100))
	m.add(run(RoleBaseline, b, 2, VerdictValid, nil, 0, 95, 100))

	row := m.Bugs[0]
	if row.Detected != 1 || row.Total != 3 {
		t.Fatalf("detected %d/%d, want 1/3: %+v", row.Detected, row.Total, row.Runs)
	}
	if !row.Runs[0].Detected || row.Runs[0].BaselineAvailability == nil || *row.Runs[0].BaselineAvailability != 0.95 {
		t.Errorf("seed 0: %+v", row.Runs[0])
	}
	if row.Runs[1].Detected || !strings.Contains(row.Runs[1].Why, "not detected") {
		t.Errorf("seed 1: %+v", row.Runs[1])
	}
	if row.Runs[2].Detected || !strings.Contains(row.Runs[2].Why, "liveness-only") {
		t.Errorf("seed 2: %+v", row.Runs[2])
	}
	if row.MedianFirstAnomalyNs != 0 {
		t.Errorf("a liveness bug has no time to the first anomaly, got %d", row.MedianFirstAnomalyNs)
	}
	// A baseline is a no-bug run: its false positive fails the sweep.
	m.add(run(RoleBaseline, b, 1, VerdictInvalid, map[string]int{"stale-read": 1}, int64(time.Second), 95, 100))
	if m.Pass || !strings.Contains(strings.Join(m.Failures, "\n"), "FALSE POSITIVE") {
		t.Errorf("an invalid baseline must fail the sweep: %v", m.Failures)
	}
}

func TestStoppedSweepFails(t *testing.T) {
	m := matrixFor(t, 1, bugs.NoDedup)
	m.add(run(RoleBug, bugs.NoDedup, 0, VerdictInvalid, map[string]int{"duplicate": 1}, int64(time.Second), 1, 2))
	m.stop("interrupted")
	if m.Pass || !strings.Contains(strings.Join(m.Failures, "\n"), "stopped after 1 of 2") {
		t.Fatalf("pass %v failures %v", m.Pass, m.Failures)
	}
}

func TestMedianIsAnObservedValue(t *testing.T) {
	for _, c := range []struct {
		xs   []int64
		want int64
	}{{nil, 0}, {[]int64{7}, 7}, {[]int64{9, 1}, 1}, {[]int64{5, 1, 3}, 3}, {[]int64{4, 8, 2, 6}, 4}} {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %d, want %d", c.xs, got, c.want)
		}
	}
}

func TestTableAndPageShowTheMatrix(t *testing.T) {
	m := matrixFor(t, 2, bugs.StaleLocalRead)
	m.add(run(RoleBug, bugs.StaleLocalRead, 0, VerdictInvalid, map[string]int{"stale-read": 3}, int64(7500*time.Millisecond), 9, 10))
	m.add(run(RoleControl, "", 0, VerdictValid, nil, 0, 9, 10))
	m.add(run(RoleBug, bugs.StaleLocalRead, 1, VerdictUnknown, nil, 0, 9, 10))
	m.add(run(RoleControl, "", 1, VerdictValid, nil, 0, 9, 10))
	now := time.Now()
	m.EndedAt = &now

	var table bytes.Buffer
	if err := WriteTable(&table, m); err != nil {
		t.Fatal(err)
	}
	text := table.String()
	for _, want := range []string{"stale-local-read", "1/2", "X?", "7.5 s", "4.5 s", "stale-read(1)", "valid 2/2", "sweep passed"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}

	var page bytes.Buffer
	if err := WritePage(&page, m); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{
		`href="../../sweep-stale-local-read/20260101T000000Z/report.html"`,
		`href="../../sweep-control/20260101T000001Z/report.html"`,
		"PASS", "valid 2/2", "1/2",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(html, "http://") || strings.Contains(html, "https://") || strings.Contains(html, "<script") {
		t.Error("the sweep page must be self-contained: no external URL and no script")
	}
}

func TestUndetectedLivenessBugIsOnlyAWarning(t *testing.T) {
	m := matrixFor(t, 1, bugs.RemovedServerDisrupts)
	b := bugs.RemovedServerDisrupts
	m.add(run(RoleBug, b, 0, VerdictValid, nil, 0, 94, 100))
	m.add(run(RoleBaseline, b, 0, VerdictValid, nil, 0, 95, 100))
	m.add(run(RoleControl, "", 0, VerdictValid, nil, 0, 90, 100))
	if m.Bugs[0].Detected != 0 {
		t.Fatalf("a 1-point drop must not count as detected: %+v", m.Bugs[0].Runs[0])
	}
	if !m.Pass || m.ExitCode() != ExitPass {
		t.Errorf("the exit status is about safety; failures %v", m.Failures)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], b) {
		t.Errorf("warnings %v, want one naming %s", m.Warnings, b)
	}
}

func TestRunningSweepDoesNotCallABugUndetectedEarly(t *testing.T) {
	m := matrixFor(t, 3, bugs.NoDedup)
	m.add(run(RoleBug, bugs.NoDedup, 0, VerdictValid, nil, 0, 1, 2))
	if !m.Pass || len(m.Failures) != 0 {
		t.Fatalf("one clean run of three planned is not a miss yet: %v", m.Failures)
	}
	var table bytes.Buffer
	if err := WriteTable(&table, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "0/1 (of 3)") {
		t.Errorf("the table should show the runs still to come:\n%s", table.String())
	}
	m.add(run(RoleBug, bugs.NoDedup, 1, VerdictValid, nil, 0, 1, 2))
	m.add(run(RoleBug, bugs.NoDedup, 2, VerdictValid, nil, 0, 1, 2))
	if m.Pass || !strings.Contains(strings.Join(m.Failures, "\n"), "undetected in all 3 runs") {
		t.Errorf("after all three runs: pass %v, failures %v", m.Pass, m.Failures)
	}
}
