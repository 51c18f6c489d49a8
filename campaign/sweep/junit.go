package sweep

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/faultline/faultline/report/junit"
	"github.com/faultline/faultline/store"
)

// JUnitFile is the sweep's JUnit XML, beside sweep.json; the store names it.
const JUnitFile = store.JUnitFile

// timedCase is a case with its time still a duration, so that a suite's
// time can be the sum of its cases'.
type timedCase struct {
	junit.Case
	elapsed time.Duration
}

// timedSuite sums its cases' times as they are added.
type timedSuite struct {
	junit.Suite
	elapsed time.Duration
}

func (s *timedSuite) add(c timedCase) {
	c.Time = junit.Seconds(c.elapsed)
	s.Add(c.Case)
	s.elapsed += c.elapsed
	s.Time = junit.Seconds(s.elapsed)
}

// WriteJUnit writes the matrix as JUnit XML that CI systems read: suite
// "bugs" with one case per bug (failed when a safety bug went undetected in
// every seed), suite "controls" with one case per control and per liveness
// baseline (failed when not valid: a false positive or no verdict), and,
// when the sweep stopped or is incomplete, a failed case saying so.
func WriteJUnit(w io.Writer, m *Matrix) error {
	bugsSuite := timedSuite{Suite: junit.Suite{Name: "bugs"}}
	for _, row := range m.Bugs {
		bugsSuite.add(bugCase(row, m))
	}
	controls := timedSuite{Suite: junit.Suite{Name: "controls"}}
	for _, row := range m.Bugs {
		for _, b := range row.Baselines {
			controls.add(noBugCase(b, fmt.Sprintf("baseline of %s, seed %d", row.Bug, b.Seed)))
		}
	}
	for _, r := range m.Controls.Runs {
		controls.add(noBugCase(r, fmt.Sprintf("control seed %d (%s, nemesis %s)", r.Seed, r.Workload, r.Nemesis)))
	}
	suites := []timedSuite{bugsSuite, controls}
	if m.Stopped != "" || m.EndedAt == nil {
		done := timedSuite{Suite: junit.Suite{Name: "sweep"}}
		why := m.Stopped
		if why == "" {
			why = fmt.Sprintf("still running: %d of %d campaigns done", m.Done, m.Planned)
		}
		done.add(timedCase{Case: junit.Case{Name: "every planned campaign ran", Classname: "sweep",
			Failure: &junit.Problem{Message: why, Type: "incomplete", Body: why}}})
		suites = append(suites, done)
	}
	out := junit.Suites{Name: "faultline sweep"}
	var total time.Duration
	for _, s := range suites {
		out.Add(s.Suite)
		total += s.elapsed
	}
	out.Time = junit.Seconds(total)
	return junit.Write(w, out)
}

func bugCase(row BugRow, m *Matrix) timedCase {
	var elapsed time.Duration
	var lines []string
	for _, r := range row.Runs {
		elapsed += r.Elapsed
		lines = append(lines, fmt.Sprintf("seed %d: %s (%s)", r.Seed, r.Why, orText(r.Report(), "no run directory")))
	}
	kind := "safety"
	if row.Liveness {
		kind = "liveness"
	}
	c := timedCase{Case: junit.Case{Name: row.Bug, Classname: "sweep.bugs." + kind}, elapsed: elapsed}
	summary := fmt.Sprintf("%s bug %s detected in %d of %d runs", kind, row.Bug, row.Detected, row.Total)
	c.SystemOut = summary + "\n" + strings.Join(lines, "\n")
	missed := row.Total > 0 && row.Detected == 0 && !row.Liveness && m.Shard == ""
	if missed || (row.Total < row.Planned && m.EndedAt != nil && m.Shard == "") {
		msg := summary
		if !missed {
			msg = fmt.Sprintf("%s bug %s: %d of %d planned runs ran", kind, row.Bug, row.Total, row.Planned)
		}
		c.Failure = &junit.Problem{Message: msg, Type: "missed", Body: c.SystemOut}
	}
	return c
}

func noBugCase(r RunResult, name string) timedCase {
	c := timedCase{Case: junit.Case{Name: name, Classname: "sweep.controls",
		SystemOut: fmt.Sprintf("%s (%s)", r.Why, orText(r.Report(), "no run directory"))}, elapsed: r.Elapsed}
	if !r.Valid {
		typ := "false-positive"
		if r.Verdict != VerdictInvalid {
			typ = "no-verdict"
		}
		c.Failure = &junit.Problem{Message: r.Why, Type: typ, Body: c.SystemOut}
	}
	return c
}
