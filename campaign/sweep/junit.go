package sweep

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// JUnitFile is the sweep's JUnit XML, beside sweep.json.
const JUnitFile = "junit.xml"

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
	elapsed  time.Duration
}

type junitCase struct {
	elapsed   time.Duration
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the matrix as JUnit XML that CI systems read: suite
// "bugs" with one case per bug (failed when a safety bug went undetected in
// every seed), suite "controls" with one case per control and per liveness
// baseline (failed when not valid: a false positive or no verdict), and,
// when the sweep stopped or is incomplete, a failed case saying so.
func WriteJUnit(w io.Writer, m *Matrix) error {
	bugsSuite := junitSuite{Name: "bugs"}
	for _, row := range m.Bugs {
		bugsSuite.add(bugCase(row, m))
	}
	controls := junitSuite{Name: "controls"}
	for _, row := range m.Bugs {
		for _, b := range row.Baselines {
			controls.add(noBugCase(b, fmt.Sprintf("baseline of %s, seed %d", row.Bug, b.Seed)))
		}
	}
	for _, r := range m.Controls.Runs {
		controls.add(noBugCase(r, fmt.Sprintf("control seed %d (%s, nemesis %s)", r.Seed, r.Workload, r.Nemesis)))
	}
	out := junitSuites{Name: "faultline sweep", Suites: []junitSuite{bugsSuite, controls}}
	if m.Stopped != "" || m.EndedAt == nil {
		done := junitSuite{Name: "sweep"}
		why := m.Stopped
		if why == "" {
			why = fmt.Sprintf("still running: %d of %d campaigns done", m.Done, m.Planned)
		}
		done.add(junitCase{Name: "every planned campaign ran", Classname: "sweep",
			Failure: &junitFailure{Message: why, Type: "incomplete", Text: why}})
		out.Suites = append(out.Suites, done)
	}
	var total time.Duration
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
		total += s.elapsed
	}
	out.Time = seconds3(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (s *junitSuite) add(c junitCase) {
	c.Time = seconds3(c.elapsed)
	s.Cases = append(s.Cases, c)
	s.Tests++
	if c.Failure != nil {
		s.Failures++
	}
	s.elapsed += c.elapsed
	s.Time = seconds3(s.elapsed)
}

func bugCase(row BugRow, m *Matrix) junitCase {
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
	c := junitCase{Name: row.Bug, Classname: "sweep.bugs." + kind, elapsed: elapsed}
	summary := fmt.Sprintf("%s bug %s detected in %d of %d runs", kind, row.Bug, row.Detected, row.Total)
	c.SystemOut = summary + "\n" + strings.Join(lines, "\n")
	missed := row.Total > 0 && row.Detected == 0 && !row.Liveness && m.Shard == ""
	if missed || (row.Total < row.Planned && m.EndedAt != nil && m.Shard == "") {
		msg := summary
		if !missed {
			msg = fmt.Sprintf("%s bug %s: %d of %d planned runs ran", kind, row.Bug, row.Total, row.Planned)
		}
		c.Failure = &junitFailure{Message: msg, Type: "missed", Text: c.SystemOut}
	}
	return c
}

func noBugCase(r RunResult, name string) junitCase {
	c := junitCase{Name: name, Classname: "sweep.controls", elapsed: r.Elapsed,
		SystemOut: fmt.Sprintf("%s (%s)", r.Why, orText(r.Report(), "no run directory"))}
	if !r.Valid {
		typ := "false-positive"
		if r.Verdict != VerdictInvalid {
			typ = "no-verdict"
		}
		c.Failure = &junitFailure{Message: r.Why, Type: typ, Text: c.SystemOut}
	}
	return c
}

func seconds3(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
