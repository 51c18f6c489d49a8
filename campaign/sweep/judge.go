package sweep

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/store"
)

// Verdict strings of a run (check.Verdict's, plus "none" when the campaign
// produced no verdict at all).
const (
	VerdictValid   = "valid"
	VerdictInvalid = "invalid"
	VerdictUnknown = "unknown"
	VerdictNone    = "none"
)

// LivenessDrop is the availability rule of liveness-only bugs: a bug run is
// detected when it stayed linearizable and its availability (the share of
// client operations that completed ok) is at least LivenessDrop below its
// baseline's — the same exposure and seed with no bug. A fixed absolute
// margin keeps the rule simple to state, and it is far above the seed-to-seed
// noise of a baseline (a few points) while a disruptive bug costs tens.
//
// Why a baseline and not the controls: controls run every fault kind, whose
// availability differs from the bug's exposure (kills and pauses cost more
// than membership churn), so comparing with them would judge the fault mix,
// not the bug.
const LivenessDrop = 0.10

// RunResult is one campaign of a sweep, judged.
type RunResult struct {
	Role  string `json:"role"`          // bug, control or baseline
	Bug   string `json:"bug,omitempty"` // for baselines: the bug they are the baseline of
	Index int    `json:"index"`
	Seed  int64  `json:"seed"`
	// Name is the campaign's name in the store; RunDir its run directory
	// relative to the store, with forward slashes ("" when none was made).
	Name   string `json:"name"`
	RunDir string `json:"run_dir,omitempty"`
	// FailedAttempt is the run directory of a first attempt that could not
	// run at all (the campaign was then tried once more).
	FailedAttempt string `json:"failed_attempt,omitempty"`
	Workload      string `json:"workload"`
	Nemesis       string `json:"nemesis"`
	ReadMode      string `json:"read_mode"`
	Status        string `json:"status"`  // the campaign's final status, or "error"
	Verdict       string `json:"verdict"` // valid, invalid, unknown or none
	Error         string `json:"error,omitempty"`
	// Anomalies counts the run's anomalies by kind.
	Anomalies map[string]int `json:"anomalies,omitempty"`
	// FirstAnomalyNs is the time from the start of the campaign to the
	// invocation of the first anomalous operation; FirstAnomalyRunNs the
	// same from the start of the workload (it leaves out the cluster's
	// start-up, which differs between runtimes). Both 0 when none.
	FirstAnomalyNs    int64 `json:"first_anomaly_ns,omitempty"`
	FirstAnomalyRunNs int64 `json:"first_anomaly_run_ns,omitempty"`
	// Client operations and their completions (final reads included).
	Ops  int `json:"ops"`
	Ok   int `json:"ok"`
	Fail int `json:"fail"`
	Info int `json:"info"`
	// Availability is Ok/Ops (0 when no operation ran).
	Availability float64 `json:"availability"`
	// BaselineAvailability is, for a liveness bug's run, its baseline's.
	BaselineAvailability *float64 `json:"baseline_availability,omitempty"`
	// Detected (bug runs) and Valid (controls and baselines) are the
	// judgement; Why says how it was reached in one line.
	Detected bool          `json:"detected"`
	Valid    bool          `json:"valid"`
	Why      string        `json:"why"`
	Elapsed  time.Duration `json:"elapsed_ns"` // wall time of the whole campaign
}

// Report is the run's report.html, relative to the store.
func (r RunResult) Report() string {
	if r.RunDir == "" {
		return ""
	}
	return r.RunDir + "/report.html"
}

// resultOf turns what campaign.Run returned into a RunResult (not yet
// judged). out may be nil, and err non-nil, when the campaign could not run.
func resultOf(p PlannedRun, storeDir string, out *campaign.Outcome, err error, elapsed time.Duration) RunResult {
	r := RunResult{
		Role: p.Role, Bug: p.Bug, Index: p.Index, Seed: p.Options.Seed,
		Name: p.Options.CampaignName(), Workload: p.Options.Workload, Nemesis: p.Options.Nemesis,
		ReadMode: p.Options.ReadMode, Status: store.StatusError, Verdict: VerdictNone, Elapsed: elapsed,
	}
	if out != nil {
		if out.RunDir != "" {
			if rel, rerr := filepath.Rel(storeDir, out.RunDir); rerr == nil {
				r.RunDir = filepath.ToSlash(rel)
			}
		}
		if out.Manifest.Status != "" {
			r.Status = out.Manifest.Status
		}
		r.Error = out.Manifest.Error
		if out.Result != nil {
			r.Verdict = out.Result.Valid.String()
			fillFromResult(&r, out.Result, out.Manifest)
		} else if out.CheckErr != nil {
			r.Error = joinText(r.Error, "check: "+out.CheckErr.Error())
		}
	}
	if err != nil {
		r.Error = joinText(r.Error, err.Error())
	}
	return r
}

// fillFromResult copies the counts and the first anomaly's time.
func fillFromResult(r *RunResult, res *check.Result, m store.Manifest) {
	r.Ops, r.Ok, r.Fail, r.Info = res.Stats.Ops, res.Stats.Ok, res.Stats.Fail, res.Stats.Info
	if r.Ops > 0 {
		r.Availability = float64(r.Ok) / float64(r.Ops)
	}
	if len(res.Anomalies) == 0 {
		return
	}
	r.Anomalies = map[string]int{}
	first := res.Anomalies[0].Time
	for _, a := range res.Anomalies {
		r.Anomalies[a.Kind]++
		first = min(first, a.Time)
	}
	// History times count from the recorder's start; the campaign began a
	// little earlier (HistoryStart - StartedAt, a few microseconds).
	offset := int64(0)
	if !m.HistoryStart.IsZero() && !m.StartedAt.IsZero() {
		offset = int64(m.HistoryStart.Sub(m.StartedAt))
	}
	r.FirstAnomalyNs = max(first+offset, 1)
	if at, ok := phaseAt(m, campaign.PhaseRunning); ok {
		r.FirstAnomalyRunNs = max(r.FirstAnomalyNs-at, 1)
	}
}

// phaseAt is when the campaign entered a phase, in ns since its start.
func phaseAt(m store.Manifest, phase string) (int64, bool) {
	for _, p := range m.Phases {
		if p.Phase == phase {
			return p.AtNs, true
		}
	}
	return 0, false
}

// judgeSafety judges a safety bug's run: detected when the checker found
// the history not linearizable. An unknown verdict (the check ran out of
// time or memory) or a campaign that produced no verdict is not a
// detection.
func judgeSafety(r *RunResult) {
	switch r.Verdict {
	case VerdictInvalid:
		r.Detected = true
		r.Why = "not linearizable: " + kindList(r.Anomalies)
	case VerdictValid:
		r.Why = "linearizable: the bug did not show"
	case VerdictUnknown:
		r.Why = "verdict unknown: counted as not detected"
	default:
		r.Why = "no verdict (" + orText(r.Error, "the campaign did not run") + "): counted as not detected"
	}
}

// judgeNoBug judges a control or a baseline: valid only when the checker
// said valid. Invalid is a false positive; unknown or no verdict proves
// nothing, so it is not counted as valid either.
func judgeNoBug(r *RunResult) {
	r.Valid = r.Verdict == VerdictValid
	switch r.Verdict {
	case VerdictValid:
		r.Why = "linearizable"
	case VerdictInvalid:
		r.Why = "FALSE POSITIVE: no bug enabled, yet not linearizable: " + kindList(r.Anomalies)
	case VerdictUnknown:
		r.Why = "verdict unknown: counted as not valid"
	default:
		r.Why = "no verdict (" + orText(r.Error, "the campaign did not run") + "): counted as not valid"
	}
}

// judgeLiveness judges a liveness-only bug's run against its baseline (nil
// when the baseline is missing) by the LivenessDrop rule. The run must still
// be linearizable: a liveness-only bug that breaks linearizability is
// reported, and not counted as detected, because it means the catalogue or
// the checker is wrong.
func judgeLiveness(r *RunResult, baseline *RunResult) {
	switch {
	case r.Verdict == VerdictInvalid:
		r.Why = "not linearizable (" + kindList(r.Anomalies) + "), but the bug is liveness-only: counted as not detected"
		return
	case r.Verdict != VerdictValid:
		r.Why = "verdict " + r.Verdict + ": counted as not detected"
		return
	case baseline == nil:
		r.Why = fmt.Sprintf("availability %.1f%%: judged once its baseline (the same campaign without the bug) has run", 100*r.Availability)
		return
	case baseline.Verdict == VerdictNone || baseline.Ops == 0:
		r.Why = "no usable baseline run to compare availability with: counted as not detected"
		return
	}
	b := baseline.Availability
	r.BaselineAvailability = &b
	drop := b - r.Availability
	r.Detected = drop >= LivenessDrop
	verb := "detected"
	if !r.Detected {
		verb = "not detected"
	}
	r.Why = fmt.Sprintf("availability %.1f%% vs %.1f%% without the bug (drop %.1f points, rule >= %.0f): %s",
		100*r.Availability, 100*b, 100*drop, 100*LivenessDrop, verb)
}

// kindList formats anomaly counts, most frequent first.
func kindList(counts map[string]int) string {
	kinds := sortedKinds(counts)
	if len(kinds) == 0 {
		return "no anomaly explained"
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// sortedKinds orders kinds by count, then by name.
func sortedKinds(counts map[string]int) []string {
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	return kinds
}

func joinText(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func orText(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
