package sweep

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Marks of one run in the per-seed columns of the text table and the page.
const (
	markDetected  = "X" // bug found (bug runs), valid (controls)
	markMissed    = "." // bug not found, or control invalid
	markNoVerdict = "?" // unknown verdict or no verdict at all
)

// runMark is a run's one-character cell.
func runMark(r RunResult, role string) string {
	ok := r.Detected
	if role != RoleBug {
		ok = r.Valid
	}
	switch {
	case ok:
		return markDetected
	case r.Verdict == VerdictUnknown || r.Verdict == VerdictNone:
		return markNoVerdict
	}
	return markMissed
}

// WriteTable prints the matrix as a plain-text table: one line per bug,
// one for the controls, then the failures (if any) and the verdict.
func WriteTable(w io.Writer, m *Matrix) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUG\tKIND\tEXPOSURE\tDETECTED\tSEEDS\tMEDIAN 1ST ANOMALY\t(INTO WORKLOAD)\tANOMALY KINDS (RUNS)")
	for _, row := range m.Bugs {
		kind := "safety"
		if row.Liveness {
			kind = "liveness"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			row.Bug, kind, exposureText(row), detectedText(row), seedMarks(row.Runs, RoleBug),
			seconds(row.MedianFirstAnomalyNs), seconds(row.MedianFirstAnomalyRunNs), rowFindings(row))
	}
	c := m.Controls
	if c.Total > 0 || m.Options.ControlRuns() > 0 {
		fmt.Fprintf(tw, "%s\t%s\t%s\tvalid %d/%d\t%s\t\t\t%s\n",
			"controls", "no bug", "all faults", c.Valid, c.Total, seedMarks(c.Runs, RoleControl), controlFindings(c))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if m.Options.ControlsOnly() {
		fmt.Fprintf(w, "\nsystem %s: controls only (planted bugs exist only in raftd)\n", m.Options.System)
	}
	fmt.Fprintf(w, "\nseeds: %s detected (controls: valid), %s not, %s unknown or no verdict; times are medians over the runs that found an anomaly\n",
		markDetected, markMissed, markNoVerdict)
	for _, f := range m.Failures {
		fmt.Fprintf(w, "FAIL: %s\n", f)
	}
	for _, f := range m.Warnings {
		fmt.Fprintf(w, "warning: %s\n", f)
	}
	switch {
	case m.Pass && m.Options.ControlsOnly():
		fmt.Fprintf(w, "sweep passed: %d campaigns, every control valid (no bugs swept)\n", m.Done)
	case m.Pass:
		fmt.Fprintf(w, "sweep passed: %d campaigns, every control valid, every safety bug detected at least once\n", m.Done)
	default:
		fmt.Fprintf(w, "sweep FAILED (%d problem(s))\n", len(m.Failures))
	}
	return nil
}

// detectedText is "detected/runs", with the planned count while runs are
// still to come.
func detectedText(row BugRow) string {
	if row.Total < row.Planned {
		return fmt.Sprintf("%d/%d (of %d)", row.Detected, row.Total, row.Planned)
	}
	return fmt.Sprintf("%d/%d", row.Detected, row.Total)
}

func exposureText(row BugRow) string {
	e := row.Exposure
	parts := []string{e.Nemesis, e.Workload}
	if e.ReadMode != "" {
		parts = append(parts, e.ReadMode)
	}
	if e.Read != "" {
		parts = append(parts, "read="+e.Read)
	}
	return strings.Join(parts, " / ")
}

// seedMarks is one mark per run, in seed order.
func seedMarks(runs []RunResult, role string) string {
	var b strings.Builder
	for _, r := range runs {
		b.WriteString(runMark(r, role))
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// rowFindings is the last column of a bug's line: anomaly kinds with the
// number of runs that found each, or the availability for a liveness bug.
func rowFindings(row BugRow) string {
	if row.Liveness {
		var parts []string
		for _, r := range row.Runs {
			if r.BaselineAvailability != nil {
				parts = append(parts, fmt.Sprintf("%.0f%%/%.0f%%", 100*r.Availability, 100**r.BaselineAvailability))
			}
		}
		s := "availability bug/baseline: " + orText(strings.Join(parts, " "), "-")
		if len(row.KindRuns) > 0 {
			s += "; anomalies: " + kindRunsText(row.KindRuns)
		}
		return s
	}
	return orText(kindRunsText(row.KindRuns), "-")
}

func controlFindings(c ControlRow) string {
	counts := map[string]int{}
	for _, r := range c.Runs {
		for k := range r.Anomalies {
			counts[k]++
		}
	}
	if len(counts) == 0 {
		return "-"
	}
	return "false positives: " + kindRunsText(counts)
}

func kindRunsText(counts map[string]int) string {
	kinds := sortedKinds(counts)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s(%d)", k, counts[k])
	}
	return strings.Join(parts, " ")
}

// seconds formats ns as seconds with one decimal, "-" for 0.
func seconds(ns int64) string {
	if ns <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f s", time.Duration(ns).Seconds())
}
