package sweep

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/faultline/faultline/report/junit"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/bugs"
)

func TestParseShard(t *testing.T) {
	for _, bad := range []string{"", "3", "0/4", "5/4", "a/b", "1/0", "1/1000", "-1/2"} {
		if _, err := ParseShard(bad); err == nil || !strings.Contains(err.Error(), "--shard") {
			t.Errorf("ParseShard(%q) = %v, want an error naming --shard", bad, err)
		}
	}
	sh, err := ParseShard(" 2/4")
	if err != nil || sh != (Shard{Index: 2, Count: 4}) || sh.String() != "2/4" {
		t.Fatalf("ParseShard(2/4) = %+v, %v", sh, err)
	}
}

// TestShardsPartitionTheSweep is the property: for any sweep and any N,
// shards 1/N .. N/N are disjoint, together hold every campaign of the whole
// sweep exactly once, keep plan order, keep a liveness bug's run with its
// baseline, and differ in size by at most one group.
func TestShardsPartitionTheSweep(t *testing.T) {
	names := bugs.Names()
	rapid.Check(t, func(t *rapid.T) {
		o := DefaultOptions()
		o.Seeds = rapid.IntRange(1, 6).Draw(t, "seeds")
		o.Controls = rapid.IntRange(-1, 6).Draw(t, "controls")
		picked := rapid.SliceOfNDistinct(rapid.SampledFrom(names), 1, len(names), rapid.ID[string]).Draw(t, "bugs")
		o.Bugs = []string{strings.Join(picked, ",")}
		n := rapid.IntRange(1, 12).Draw(t, "shards")
		full, err := o.FullPlan()
		if err != nil {
			t.Fatal(err)
		}
		key := func(p PlannedRun) string {
			return fmt.Sprintf("%s/%s/%d/%d/%s", p.Role, p.Bug, p.Index, p.Options.Seed, p.Options.Name)
		}
		owner := map[string]int{}
		var sizes []int
		for i := 1; i <= n; i++ {
			o.Shard = Shard{Index: i, Count: n}
			part, err := o.Plan()
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(groups(part)))
			last := -1
			for _, p := range part {
				k := key(p)
				if prev, dup := owner[k]; dup {
					t.Fatalf("campaign %s in shards %d and %d", k, prev, i)
				}
				owner[k] = i
				pos := indexOf(full, k, key)
				if pos <= last {
					t.Fatalf("shard %d/%d breaks plan order at %s", i, n, k)
				}
				last = pos
			}
		}
		if len(owner) != len(full) {
			t.Fatalf("shards hold %d campaigns, the sweep %d", len(owner), len(full))
		}
		for _, p := range full {
			if p.Role == RoleBaseline {
				bugRun := PlannedRun{Role: RoleBug, Bug: p.Bug, Index: p.Index, Options: o.bugCampaign(mustBug(p.Bug), p.Index)}
				if owner[key(p)] != owner[key(bugRun)] {
					t.Fatalf("baseline of %s seed %d in shard %d, its bug run in %d", p.Bug, p.Index, owner[key(p)], owner[key(bugRun)])
				}
			}
		}
		lo, hi := sizes[0], sizes[0]
		for _, s := range sizes {
			lo, hi = min(lo, s), max(hi, s)
		}
		if hi-lo > 1 {
			t.Fatalf("shard sizes %v differ by more than one group", sizes)
		}
	})
}

func indexOf(plan []PlannedRun, k string, key func(PlannedRun) string) int {
	for i, p := range plan {
		if key(p) == k {
			return i
		}
	}
	return -1
}

func mustBug(name string) bugs.Bug {
	b, _ := bugs.Lookup(name)
	return b
}

// outcome stands in for a campaign: it makes the run directory a campaign
// would make and returns the result campaign.Run would have led to. Bug
// runs are invalid (detected) unless missed says otherwise; controls valid.
func outcome(t *testing.T, storeDir string, p PlannedRun, missed map[string]bool, started time.Time) RunResult {
	t.Helper()
	rel := fmt.Sprintf("%s/%s", p.Options.CampaignName(), started.Add(time.Duration(p.Index)*time.Minute).UTC().Format(store.TimestampLayout))
	dir := filepath.Join(storeDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.html"), []byte(p.Role+" "+p.Bug), 0o644); err != nil {
		t.Fatal(err)
	}
	r := RunResult{Role: p.Role, Bug: p.Bug, Index: p.Index, Seed: p.Options.Seed, Name: p.Options.CampaignName(),
		RunDir: rel, Workload: p.Options.Workload, Nemesis: p.Options.Nemesis, Status: "done",
		Verdict: VerdictValid, Ops: 100, Ok: 95, Availability: 0.95, Elapsed: 30 * time.Second}
	if p.Role == RoleBug && !missed[p.Bug] {
		if mustBug(p.Bug).Liveness {
			r.Ok, r.Availability = 60, 0.60
		} else {
			r.Verdict, r.Anomalies, r.FirstAnomalyNs = VerdictInvalid, map[string]int{"stale-read": 2}, int64(time.Second)
		}
	}
	return r
}

// writeSweep writes the sweep o describes (one shard of it, or all) into
// store as Run would, with outcome standing in for the campaigns.
func writeSweep(t *testing.T, o Options, storeDir string, missed map[string]bool) *Sweep {
	t.Helper()
	o.Store = storeDir
	plan, err := o.Plan()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 12, 6, 1, 0, o.Shard.Index, 0, time.UTC)
	m := newMatrix(o, plan)
	m.Shard, m.StartedAt, m.Runtime = o.Shard.String(), started, "process"
	for _, p := range plan {
		m.add(outcome(t, storeDir, p, missed, started))
	}
	end := started.Add(time.Hour)
	m.EndedAt = &end
	dir, err := store.CreateSweep(storeDir, started)
	if err != nil {
		t.Fatal(err)
	}
	s := &Sweep{Matrix: m, Dir: dir}
	if err := s.write(); err != nil {
		t.Fatal(err)
	}
	if err := store.PointSweepLatest(storeDir, dir); err != nil {
		t.Fatal(err)
	}
	return s
}

func shardOptions() Options {
	o := DefaultOptions()
	o.Seeds = 2
	o.Bugs = []string{"stale-local-read,no-dedup,removed-server-disrupts"}
	return o
}

func TestMergeEqualsTheWholeSweep(t *testing.T) {
	root := t.TempDir()
	missed := map[string]bool{"no-dedup": true}
	whole := writeSweep(t, shardOptions(), filepath.Join(root, "whole"), missed)

	var sources []string
	for i := 1; i <= 3; i++ {
		o := shardOptions()
		o.Shard = Shard{Index: i, Count: 3}
		store := filepath.Join(root, fmt.Sprintf("shard%d", i))
		s := writeSweep(t, o, store, missed)
		if s.Matrix.ExitCode() != ExitPass {
			t.Errorf("shard %d fails on its own (%v); only the merge judges missed bugs", i, s.Matrix.Failures)
		}
		sources = append(sources, store)
	}
	merged, err := Merge(sources, filepath.Join(root, "merged"))
	if err != nil {
		t.Fatal(err)
	}
	got, want := merged.Matrix, whole.Matrix
	if got.Done != want.Done || got.Planned != want.Planned || got.Pass != want.Pass ||
		strings.Join(got.Failures, "|") != strings.Join(want.Failures, "|") {
		t.Fatalf("merged: done %d/%d pass %v failures %v\nwhole:  done %d/%d pass %v failures %v",
			got.Done, got.Planned, got.Pass, got.Failures, want.Done, want.Planned, want.Pass, want.Failures)
	}
	for i := range want.Bugs {
		g, w := got.Bugs[i], want.Bugs[i]
		if g.Bug != w.Bug || g.Detected != w.Detected || g.Total != w.Total {
			t.Errorf("row %s: %d/%d detected, want %s %d/%d", g.Bug, g.Detected, g.Total, w.Bug, w.Detected, w.Total)
		}
	}
	if got.Controls.Valid != want.Controls.Valid || got.Controls.Total != want.Controls.Total {
		t.Errorf("controls %d/%d, want %d/%d", got.Controls.Valid, got.Controls.Total, want.Controls.Valid, want.Controls.Total)
	}
	if len(got.Merged) != 3 || got.StartedAt != time.Date(2026, 12, 6, 1, 0, 1, 0, time.UTC) {
		t.Errorf("merged from %v starting %s", got.Merged, got.StartedAt)
	}
	// Every run's report was copied and the page links it.
	for _, r := range allRuns(got) {
		if _, err := os.Stat(filepath.Join(root, "merged", r.Report())); err != nil {
			t.Errorf("run %s seed %d: %v", r.Bug, r.Seed, err)
		}
	}
	page, err := os.ReadFile(filepath.Join(merged.Dir, PageFile))
	if err != nil || !strings.Contains(string(page), "../../sweep-stale-local-read/") {
		t.Errorf("merged page lacks links to the runs: %v", err)
	}
	if _, _, err := FindSweep(filepath.Join(root, "merged")); err != nil {
		t.Errorf("merged store has no sweeps/latest: %v", err)
	}
}

func TestMergeRefusesWhatIsNotOneSweep(t *testing.T) {
	root := t.TempDir()
	var sources []string
	for i := 1; i <= 2; i++ {
		o := shardOptions()
		o.Shard = Shard{Index: i, Count: 2}
		store := filepath.Join(root, fmt.Sprintf("s%d", i))
		writeSweep(t, o, store, nil)
		sources = append(sources, store)
	}
	other := shardOptions()
	other.Seeds, other.Shard = 3, Shard{Index: 2, Count: 2}
	writeSweep(t, other, filepath.Join(root, "other"), nil)

	cases := []struct {
		sources []string
		want    string
	}{
		{[]string{sources[0], sources[0]}, "are both shard 1/2"},
		{[]string{sources[0], filepath.Join(root, "other")}, "not shards of one sweep"},
		{[]string{filepath.Join(root, "nothing")}, "neither a sweep directory"},
	}
	for _, c := range cases {
		if _, err := Merge(c.sources, filepath.Join(root, "out")); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Merge(%v) = %v, want an error containing %q", c.sources, err, c.want)
		}
	}
	// A missing shard leaves campaigns unrun: the merged sweep fails.
	s, err := Merge(sources[:1], filepath.Join(root, "half"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Matrix.Pass || !strings.Contains(strings.Join(s.Matrix.Failures, "\n"), "ran in none of the 1 shard(s)") {
		t.Fatalf("merge of one of two shards: pass %v, failures %v", s.Matrix.Pass, s.Matrix.Failures)
	}
}

func TestMergeOfShardsRunIntoOneStore(t *testing.T) {
	store := t.TempDir()
	var sources []string
	for i := 1; i <= 2; i++ {
		o := shardOptions()
		o.Shard = Shard{Index: i, Count: 2}
		sources = append(sources, writeSweep(t, o, store, nil).Dir)
	}
	s, err := Merge(sources, store)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Matrix.Pass || s.Matrix.Done != s.Matrix.Planned {
		t.Fatalf("pass %v, done %d of %d: %v", s.Matrix.Pass, s.Matrix.Done, s.Matrix.Planned, s.Matrix.Failures)
	}
	for _, r := range allRuns(s.Matrix) {
		if strings.Contains(r.RunDir, "-2") {
			t.Errorf("run %s copied onto itself as %s", r.Name, r.RunDir)
		}
	}
}

func TestJUnitHasACasePerBugAndControl(t *testing.T) {
	s := writeSweep(t, shardOptions(), t.TempDir(), map[string]bool{"no-dedup": true})
	b, err := os.ReadFile(filepath.Join(s.Dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc junit.Suites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cases := map[string]junit.Case{}
	for _, suite := range doc.Suites {
		for _, c := range suite.Cases {
			cases[suite.Name+"/"+c.Name] = c
		}
	}
	// 3 bugs; 2 controls and 2 baselines of the liveness bug.
	if len(cases) != 7 || doc.Tests != 7 || doc.Failures != 1 {
		t.Fatalf("%d cases, tests=%d failures=%d; want 7 cases and 1 failure:\n%s", len(cases), doc.Tests, doc.Failures, b)
	}
	if c := cases["bugs/no-dedup"]; c.Failure == nil || !strings.Contains(c.Failure.Message, "detected in 0 of 2 runs") {
		t.Errorf("missed bug case = %+v", c)
	}
	if c := cases["bugs/stale-local-read"]; c.Failure != nil || !strings.Contains(c.SystemOut, "detected in 2 of 2 runs") {
		t.Errorf("detected bug case = %+v", c)
	}
	if c := cases["controls/control seed 1 (register, nemesis all)"]; c.Failure != nil {
		t.Errorf("valid control failed: %+v", c)
	}
}
