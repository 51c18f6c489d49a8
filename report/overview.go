package report

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/store"
)

// RunSummary is one run as every listing shows it: the runs table of
// `checker serve`, the static index.html at the store's root, and `checker
// summary`.
type RunSummary struct {
	ID            string         `json:"id"` // "<name>/<timestamp>"
	Name          string         `json:"name"`
	Timestamp     string         `json:"timestamp"`
	StartedAt     *time.Time     `json:"started_at,omitempty"`
	Status        string         `json:"status"`
	Verdict       string         `json:"verdict"` // valid, invalid, unknown, incomplete
	Incomplete    bool           `json:"incomplete"`
	Workload      string         `json:"workload,omitempty"`
	Nemesis       string         `json:"nemesis,omitempty"`
	Duration      string         `json:"duration,omitempty"`
	Ops           int            `json:"ops"`
	Anomalies     int            `json:"anomalies"`
	AnomalyCounts map[string]int `json:"anomaly_counts"`
	Problems      []string       `json:"problems,omitempty"`
	HasReport     bool           `json:"has_report"`
	// Reproduce is the `checker run` line that repeats the campaign.
	Reproduce string `json:"reproduce,omitempty"`
	// Error is how the campaign ended when it did not end well.
	Error string `json:"error,omitempty"`
}

// SummarizeRun reads the run at dir of fsys (a store's "<name>/<timestamp>",
// or "." for a run directory's own files). Whatever cannot be read is listed
// in Problems and makes the run incomplete; nothing here fails.
func SummarizeRun(fsys fs.FS, dir string) RunSummary {
	sum := RunSummary{ID: dir, Verdict: VerdictIncomplete, AnomalyCounts: map[string]int{}}
	sum.Name, sum.Timestamp, _ = strings.Cut(dir, "/")
	if t, ok := ParseTimestamp(strings.SplitN(sum.Timestamp, "-", 2)[0]); ok {
		sum.StartedAt = &t
	}
	summarizeManifest(fsys, dir, &sum)
	summarizeResults(fsys, dir, &sum)
	if _, err := fs.Stat(fsys, path.Join(dir, store.HistoryFile)); err != nil {
		sum.Problems = append(sum.Problems, "history.jsonl is missing")
	}
	if fi, err := fs.Stat(fsys, path.Join(dir, store.ReportFile)); err == nil && fi.Mode().IsRegular() {
		sum.HasReport = true
	}
	sum.Incomplete = len(sum.Problems) > 0 || (sum.Status != store.StatusComplete)
	if sum.Status == "" {
		sum.Status = "unknown"
	}
	return sum
}

func summarizeManifest(fsys fs.FS, dir string, sum *RunSummary) {
	m, err := store.ReadManifestFS(fsys, dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sum.Problems = append(sum.Problems, "campaign.json is missing")
		return
	case err != nil:
		sum.Problems = append(sum.Problems, err.Error())
		return
	}
	c := NewCampaign(m)
	sum.Status, sum.Reproduce, sum.Error = m.ShownStatus(), m.Reproduce, m.Error
	if m.Name != "" {
		sum.Name = m.Name
	}
	if sum.Timestamp == "" {
		sum.Timestamp = m.Timestamp
	}
	if t, ok := c.Started(); ok {
		sum.StartedAt = &t
	}
	sum.Workload = c.OptionString("workload")
	sum.Nemesis = c.OptionString("nemesis")
	if d := c.OptionDuration("duration"); d > 0 {
		sum.Duration = d.String()
	}
}

func summarizeResults(fsys fs.FS, dir string, sum *RunSummary) {
	res, err := ReadResults(fsys, dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sum.Problems = append(sum.Problems, "results.json is missing")
		return
	case err != nil:
		sum.Problems = append(sum.Problems, err.Error())
		return
	}
	sum.Verdict = RunVerdict(res)
	sum.Ops = res.Stats.Ops
	for k, n := range res.Counts {
		if n > 0 {
			sum.AnomalyCounts[k] = n
		}
	}
	if len(sum.AnomalyCounts) == 0 {
		for _, a := range res.Anomalies {
			sum.AnomalyCounts[a.Kind]++
		}
	}
	for _, n := range sum.AnomalyCounts {
		sum.Anomalies += n
	}
	if sum.Workload == "" {
		sum.Workload = res.Workload
	}
}

// SummarizeStore summarizes every run of the store whose root is fsys,
// newest first.
func SummarizeStore(fsys fs.FS) ([]RunSummary, error) {
	refs, err := store.List(fsys)
	if err != nil {
		return nil, err
	}
	out := make([]RunSummary, 0, len(refs))
	for _, ref := range refs {
		out = append(out, SummarizeRun(fsys, ref.ID))
	}
	SortRuns(out)
	return out, nil
}

// SortRuns orders runs newest first.
func SortRuns(runs []RunSummary) {
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if a.StartedAt != nil && b.StartedAt != nil && !a.StartedAt.Equal(*b.StartedAt) {
			return a.StartedAt.After(*b.StartedAt)
		}
		if a.Timestamp != b.Timestamp {
			return a.Timestamp > b.Timestamp
		}
		return a.ID < b.ID
	})
}

// AnomalyText is a run's anomaly counts in one line, most frequent first
// ("stale-read 3, lost-commit 1"; "none").
func (s RunSummary) AnomalyText() string {
	if len(s.AnomalyCounts) == 0 {
		return "none"
	}
	kinds := make([]string, 0, len(s.AnomalyCounts))
	for k := range s.AnomalyCounts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		a, b := s.AnomalyCounts[kinds[i]], s.AnomalyCounts[kinds[j]]
		if a != b {
			return a > b
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, s.AnomalyCounts[k])
	}
	return strings.Join(parts, ", ")
}

// ReportPath is the run's report.html relative to the store ("" without one).
func (s RunSummary) ReportPath() string {
	if !s.HasReport {
		return ""
	}
	return path.Join(s.ID, store.ReportFile)
}

// SweepSummary is one sweep as the store's index and `checker summary`
// show it. Package campaign/sweep owns sweep.json; its reader fills this.
type SweepSummary struct {
	ID        string     `json:"id"` // "sweeps/<timestamp>"
	StartedAt time.Time  `json:"started_at"`
	Finished  bool       `json:"finished"`
	Pass      bool       `json:"pass"`
	Done      int        `json:"done"`
	Planned   int        `json:"planned"`
	Shard     string     `json:"shard,omitempty"`
	Merged    int        `json:"merged,omitempty"` // shards merged into it
	Bugs      []SweepBug `json:"bugs"`
	Controls  string     `json:"controls"` // "valid 5/5"
	Failures  []string   `json:"failures,omitempty"`
	Warnings  []string   `json:"warnings,omitempty"`
}

// SweepBug is one bug's line of a sweep summary.
type SweepBug struct {
	Bug      string `json:"bug"`
	Liveness bool   `json:"liveness,omitempty"`
	Detected int    `json:"detected"`
	Total    int    `json:"total"`
}

// PagePath is the sweep's page relative to the store.
func (s SweepSummary) PagePath() string { return path.Join(s.ID, "index.html") }

// Verdict is the sweep's verdict word: pass, fail, or running.
func (s SweepSummary) Verdict() string {
	switch {
	case !s.Finished:
		return "running"
	case s.Pass:
		return "pass"
	}
	return "fail"
}
