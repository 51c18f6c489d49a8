package sweep

import (
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/sut/bugs"
)

// Exit statuses of `checker sweep`.
const (
	// ExitPass: every control stayed valid and every bug was detected in
	// at least one seed.
	ExitPass = 0
	// ExitFail: a control (or a liveness baseline) was not valid — a false
	// positive, or a run that proves nothing — or a safety bug went
	// undetected in every seed, or the sweep was interrupted before it
	// finished. A liveness-only bug never detected is only a warning.
	ExitFail = 1
)

// BugRow is one bug's line of the matrix.
type BugRow struct {
	Bug      string      `json:"bug"`
	Liveness bool        `json:"liveness"`
	Exposure Exposure    `json:"exposure"`
	Runs     []RunResult `json:"runs"`
	// Baselines are a liveness bug's no-bug runs, by seed index.
	Baselines []RunResult `json:"baselines,omitempty"`
	Detected  int         `json:"detected"`
	Total     int         `json:"total"`
	Planned   int         `json:"planned"` // runs the sweep plans for the bug
	// MedianFirstAnomalyNs is the median, over the runs that found an
	// anomaly, of the time from the campaign start to the invocation of
	// the first anomalous operation (0 when none did); the Run variant
	// counts from the start of the workload.
	MedianFirstAnomalyNs    int64 `json:"median_first_anomaly_ns,omitempty"`
	MedianFirstAnomalyRunNs int64 `json:"median_first_anomaly_run_ns,omitempty"`
	// KindRuns counts, per anomaly kind, the runs in which it was found.
	KindRuns map[string]int `json:"kind_runs"`
}

// ControlRow is the controls' line of the matrix.
type ControlRow struct {
	Runs  []RunResult `json:"runs"`
	Valid int         `json:"valid"`
	Total int         `json:"total"`
}

// Matrix is the outcome of a sweep: sweep.json.
type Matrix struct {
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Command   []string   `json:"command,omitempty"`
	Options   Options    `json:"options"`
	// Planned is the number of campaigns of the sweep, Done how many ran.
	Planned  int        `json:"planned"`
	Done     int        `json:"done"`
	Bugs     []BugRow   `json:"bugs"`
	Controls ControlRow `json:"controls"`
	Failures []string   `json:"failures"`
	// Warnings do not fail the sweep (a liveness bug never detected).
	Warnings []string `json:"warnings"`
	Pass     bool     `json:"pass"`
	Runtime  string   `json:"runtime,omitempty"` // the runtime picked (docker or process)
	Stopped  string   `json:"stopped,omitempty"` // why the sweep ended early, if it did
	// Shard is the slice this sweep ran ("i/N"; "" for a whole sweep).
	// A shard leaves a bug it never saw detected to the merge, which sees
	// every seed: only false positives and stops fail a shard.
	Shard string `json:"shard,omitempty"`
	// Merged lists the shard sweeps `checker merge` put together.
	Merged   []string `json:"merged,omitempty"`
	rowIndex map[string]int
}

// newMatrix lays out an empty matrix for the plan: one row per bug, in
// plan order.
func newMatrix(o Options, plan []PlannedRun) *Matrix {
	m := &Matrix{Options: o, Planned: len(plan), Bugs: []BugRow{}, Controls: ControlRow{Runs: []RunResult{}},
		rowIndex: map[string]int{}, Failures: []string{}, Warnings: []string{}}
	for _, p := range plan {
		if p.Role != RoleBug {
			continue
		}
		if i, ok := m.rowIndex[p.Bug]; ok {
			m.Bugs[i].Planned++
			continue
		}
		b, _ := bugs.Lookup(p.Bug)
		m.rowIndex[p.Bug] = len(m.Bugs)
		m.Bugs = append(m.Bugs, BugRow{Bug: b.Name, Liveness: b.Liveness, Exposure: Exposures[b.Name], Planned: 1,
			Runs: []RunResult{}, KindRuns: map[string]int{}})
	}
	return m
}

// add records one finished campaign, judges it (and, for a liveness bug,
// the run its baseline belongs to), and recomputes the aggregates.
func (m *Matrix) add(r RunResult) {
	m.Done++
	switch r.Role {
	case RoleControl:
		judgeNoBug(&r)
		m.Controls.Runs = append(m.Controls.Runs, r)
	case RoleBaseline:
		judgeNoBug(&r)
		row := &m.Bugs[m.rowIndex[r.Bug]]
		row.Baselines = append(row.Baselines, r)
		for i := range row.Runs {
			if row.Runs[i].Index == r.Index {
				judgeLiveness(&row.Runs[i], &r)
			}
		}
	case RoleBug:
		row := &m.Bugs[m.rowIndex[r.Bug]]
		if row.Liveness {
			judgeLiveness(&r, row.baseline(r.Index))
		} else {
			judgeSafety(&r)
		}
		row.Runs = append(row.Runs, r)
	}
	m.aggregate()
}

// baseline returns the row's baseline run of seed index i, or nil.
func (row *BugRow) baseline(i int) *RunResult {
	for k := range row.Baselines {
		if row.Baselines[k].Index == i {
			return &row.Baselines[k]
		}
	}
	return nil
}

// aggregate recomputes every count, median and the failures.
func (m *Matrix) aggregate() {
	m.Failures, m.Warnings = []string{}, []string{}
	for i := range m.Bugs {
		row := &m.Bugs[i]
		row.Detected, row.Total = 0, len(row.Runs)
		row.KindRuns = map[string]int{}
		var times, runTimes []int64
		for _, r := range row.Runs {
			if r.Detected {
				row.Detected++
			}
			for k := range r.Anomalies {
				row.KindRuns[k]++
			}
			if r.FirstAnomalyNs > 0 && !row.Liveness {
				times = append(times, r.FirstAnomalyNs)
				runTimes = append(runTimes, r.FirstAnomalyRunNs)
			}
		}
		row.MedianFirstAnomalyNs = median(times)
		row.MedianFirstAnomalyRunNs = median(runTimes)
		// A bug is judged undetected once all its runs are in (a stopped
		// sweep fails anyway), not while a long sweep is still going.
		if row.Total > 0 && row.Detected == 0 && (row.Total >= row.Planned || m.Stopped != "") {
			if m.Shard != "" {
				m.Warnings = append(m.Warnings, fmt.Sprintf("bug %s undetected in this shard's %d run(s): judged when the shards are merged", row.Bug, row.Total))
			} else if row.Liveness {
				// The exit status is about safety: a liveness-only bug
				// that costs no measurable availability is worth a
				// warning, not a failed night.
				m.Warnings = append(m.Warnings, fmt.Sprintf("liveness bug %s showed no availability drop in any of %d runs", row.Bug, row.Total))
			} else {
				m.Failures = append(m.Failures, fmt.Sprintf("safety bug %s went undetected in all %d runs", row.Bug, row.Total))
			}
		}
		for _, b := range row.Baselines {
			if !b.Valid {
				m.Failures = append(m.Failures, fmt.Sprintf("baseline of %s (no bug), seed %d: %s", row.Bug, b.Seed, b.Why))
			}
		}
	}
	m.Controls.Valid, m.Controls.Total = 0, len(m.Controls.Runs)
	for _, r := range m.Controls.Runs {
		if r.Valid {
			m.Controls.Valid++
		} else {
			m.Failures = append(m.Failures, fmt.Sprintf("control (no bug, %s, nemesis %s), seed %d: %s", r.Workload, r.Nemesis, r.Seed, r.Why))
		}
	}
	if m.Stopped != "" {
		m.Failures = append(m.Failures, fmt.Sprintf("sweep stopped after %d of %d campaigns: %s", m.Done, m.Planned, m.Stopped))
	}
	m.Pass = len(m.Failures) == 0
}

// stop records that the sweep ended early.
func (m *Matrix) stop(why string) {
	m.Stopped = why
	m.aggregate()
}

// ExitCode is `checker sweep`'s exit status: ExitPass or ExitFail.
func (m *Matrix) ExitCode() int {
	if m.Pass {
		return ExitPass
	}
	return ExitFail
}

// median is the median of xs (the lower middle for an even count, so it is
// always a time some run really had); 0 for none.
func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
