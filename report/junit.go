package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/report/junit"
	"github.com/faultline/faultline/store"
)

// Grouping of keys into linearizability test cases: one case per key up to
// maxKeyCases keys, then contiguous groups, so a 10,000-key run gives a
// readable CI page rather than 10,000 rows.
const (
	maxKeyCases        = 32
	maxExplanationsOut = 100
)

// classifiedKinds are the anomaly kinds checked as properties of their own.
var classifiedKinds = []struct{ kind, name string }{
	{check.LostCommit, "no lost commits: every acknowledged write survives healing"},
	{check.StaleRead, "no stale reads: no read misses a write acknowledged before it began"},
	{check.Phantom, "no phantom values: every value read was written"},
	{check.Duplicate, "no duplicate applies: no element is applied twice"},
}

// secondsAttr is a time attribute of ns nanoseconds.
func secondsAttr(ns int64) string { return junit.Seconds(time.Duration(ns)) }

// junitXML renders junit.xml for a run.
func junitXML(r *runData) ([]byte, error) {
	name := filepath.Base(filepath.Dir(r.Dir))
	if r.Campaign != nil && r.Campaign.Name != "" {
		name = r.Campaign.Name
	}
	class := "faultline." + sanitizeClass(name)
	suite := junit.Suite{Name: class, Hostname: "localhost"}
	if t, ok := r.Campaign.Started(); ok {
		suite.Timestamp = t.Format("2006-01-02T15:04:05")
	}
	if c := r.Campaign; c != nil {
		if s := c.seedString(); s != "" {
			suite.Properties = append(suite.Properties, junit.Property{Name: "seed", Value: s})
		}
		for _, s := range c.Settings() {
			if s.Name == "seed" {
				continue // already there, even when options lack it
			}
			if s.Value == "(default)" || s.Value == "(none)" {
				s.Value = ""
			}
			suite.Properties = append(suite.Properties, junit.Property(s))
		}
		if c.Reproduce != "" {
			suite.Properties = append(suite.Properties, junit.Property{Name: "reproduce", Value: c.Reproduce})
			suite.SystemOut = "Reproduce with: " + c.Reproduce + "\n"
		}
	}
	suite.Add(campaignCase(r, class))
	for _, c := range linearizabilityCases(r, class) {
		suite.Add(c)
	}
	for _, c := range anomalyKindCases(r, class) {
		suite.Add(c)
	}
	suite.Add(availabilityCase(r, class))

	var total int64
	if r.Result != nil {
		total = r.Result.Stats.CheckNs
	}
	suite.Time = secondsAttr(total)
	doc := junit.Suites{Name: "faultline", Time: suite.Time}
	doc.Add(suite)
	var b bytes.Buffer
	if err := junit.Write(&b, doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func sanitizeClass(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}

func campaignCase(r *runData, class string) junit.Case {
	c := junit.Case{Name: "campaign ran to completion", Classname: class + ".campaign", Time: "0.000"}
	switch {
	case r.Campaign == nil:
		c.Error = &junit.Problem{Type: "incomplete", Message: "campaign.json is missing or unreadable", Body: strings.Join(r.Problems, "\n")}
	case r.Campaign.Status == store.StatusError:
		c.Error = &junit.Problem{Type: "error", Message: "the campaign failed: " + r.Campaign.Error, Body: strings.Join(r.Problems, "\n")}
	case r.Campaign.Status == store.StatusInterrupted:
		c.Error = &junit.Problem{Type: "interrupted", Message: "the campaign was interrupted before its end", Body: strings.Join(r.Problems, "\n")}
	case r.Campaign.ShownStatus() == store.StatusAbandoned:
		c.Error = &junit.Problem{Type: "abandoned", Message: "the process running the campaign is gone and never recorded its end", Body: strings.Join(r.Problems, "\n")}
	case r.Campaign.Status == store.StatusRunning:
		c.Error = &junit.Problem{Type: "incomplete", Message: "the campaign never recorded its end", Body: strings.Join(r.Problems, "\n")}
	case r.Campaign.Recovery != "":
		c.SystemOut = "Recovery after healing: " + r.Campaign.Recovery
	}
	return c
}

// linearizabilityCases checks linearizability per key, or per group of keys.
func linearizabilityCases(r *runData, class string) []junit.Case {
	class += ".linearizability"
	res := r.Result
	if res == nil {
		return []junit.Case{{Name: "linearizable", Classname: class, Time: "0.000",
			Error: &junit.Problem{Type: "incomplete", Message: "no results.json: the history was not checked", Body: strings.Join(r.Problems, "\n")}}}
	}
	workload := res.Workload
	if workload == "" {
		workload = r.Campaign.OptionString("workload")
	}
	keys := append([]check.KeyResult(nil), res.Keys...)
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key < keys[j].Key })
	if len(keys) == 0 {
		c := junit.Case{Name: "linearizable: " + workload + " workload", Classname: class, Time: secondsAttr(res.Stats.CheckNs)}
		setVerdict(&c, res.Valid, res.Reason, res.Anomalies)
		return []junit.Case{c}
	}
	byKey := map[string][]check.Anomaly{}
	for _, a := range res.Anomalies {
		byKey[a.Key] = append(byKey[a.Key], a)
	}
	size := 1
	if len(keys) > maxKeyCases {
		size = (len(keys) + maxKeyCases - 1) / maxKeyCases
	}
	var out []junit.Case
	for start := 0; start < len(keys); start += size {
		group := keys[start:min(start+size, len(keys))]
		name := fmt.Sprintf("linearizable: %s key %s", workload, group[0].Key)
		if len(group) > 1 {
			name = fmt.Sprintf("linearizable: %s keys %s … %s (%d keys)", workload, group[0].Key, group[len(group)-1].Key, len(group))
		}
		var elapsed int64
		verdict := check.Valid
		var anoms []check.Anomaly
		var unknownKeys []string
		for _, k := range group {
			elapsed += k.Elapsed
			anoms = append(anoms, byKey[k.Key]...)
			switch k.Valid {
			case check.Invalid:
				verdict = check.Invalid
			case check.Unknown:
				unknownKeys = append(unknownKeys, k.Key)
				if verdict == check.Valid {
					verdict = check.Unknown
				}
			}
		}
		c := junit.Case{Name: strings.TrimSpace(name), Classname: class, Time: secondsAttr(elapsed)}
		reason := res.Reason
		if len(unknownKeys) > 0 {
			reason = strings.TrimSpace(reason + " (undecided keys: " + strings.Join(unknownKeys, ", ") + ")")
		}
		setVerdict(&c, verdict, reason, anoms)
		out = append(out, c)
	}
	return out
}

func setVerdict(c *junit.Case, v check.Verdict, reason string, anoms []check.Anomaly) {
	switch v {
	case check.Invalid:
		c.Failure = &junit.Problem{Type: "non-linearizable", Message: summarize(anoms, "not linearizable"), Body: explanations(anoms)}
	case check.Unknown:
		msg := "unknown: the check did not decide"
		if reason != "" {
			msg += ": " + reason
		}
		c.Error = &junit.Problem{Type: "unknown", Message: msg}
	}
}

// summarize counts anomalies by kind: "not linearizable: 2 stale reads, 1
// lost commit; first: read of k7 at 12.4 s ...".
func summarize(anoms []check.Anomaly, lead string) string {
	if len(anoms) == 0 {
		return lead
	}
	counts := map[string]int{}
	var kinds []string
	for _, a := range anoms {
		if counts[a.Kind] == 0 {
			kinds = append(kinds, a.Kind)
		}
		counts[a.Kind]++
	}
	var parts []string
	for _, k := range kinds {
		t := strings.ToLower(kindTitle(k))
		parts = append(parts, plural(counts[k], t, t+"s"))
	}
	msg := lead + ": " + strings.Join(parts, ", ")
	if first := anoms[0].Explanation; first != "" {
		msg += "; first: " + first
	}
	return msg
}

func explanations(anoms []check.Anomaly) string {
	var b strings.Builder
	for i, a := range anoms {
		if i == maxExplanationsOut {
			fmt.Fprintf(&b, "... and %d more in results.json\n", len(anoms)-i)
			break
		}
		expl := a.Explanation
		if expl == "" {
			expl = fmt.Sprintf("%s on key %s at %s", kindTitle(a.Kind), a.Key, secs(a.Time))
		}
		fmt.Fprintf(&b, "[%s] %s\n", a.Kind, expl)
	}
	return b.String()
}

func anomalyKindCases(r *runData, class string) []junit.Case {
	class += ".anomalies"
	var out []junit.Case
	for _, k := range classifiedKinds {
		c := junit.Case{Name: k.name, Classname: class, Time: "0.000"}
		if r.Result == nil {
			c.Error = &junit.Problem{Type: "incomplete", Message: "no results.json: the history was not checked"}
			out = append(out, c)
			continue
		}
		var anoms []check.Anomaly
		for _, a := range r.Result.Anomalies {
			if a.Kind == k.kind {
				anoms = append(anoms, a)
			}
		}
		if len(anoms) > 0 {
			c.Failure = &junit.Problem{Type: k.kind, Message: summarize(anoms, kindTitle(k.kind)+" found"), Body: explanations(anoms)}
		}
		out = append(out, c)
	}
	return out
}

// availabilityCase: after every heal an operation invoked later succeeded.
// The body lists availability per fault phase, for the record.
func availabilityCase(r *runData, class string) junit.Case {
	c := junit.Case{Name: "available: the cluster served again after every heal", Classname: class + ".availability", Time: "0.000"}
	if r.History == nil {
		c.Error = &junit.Problem{Type: "incomplete", Message: "history.jsonl is missing: availability is unknown"}
		return c
	}
	a := analyse(r.History)
	var out strings.Builder
	for _, p := range a.ByLabel {
		fmt.Fprintf(&out, "%s: %d operations, %s ok\n", p.Label, p.Ops, p.AvailabilityText)
	}
	var missed []string
	for _, rc := range a.Recoveries {
		if rc.Recovered {
			fmt.Fprintf(&out, "%s healed at %s: recovered after %s\n", rc.Kind, secs(rc.Heal), span(rc.After))
		} else {
			missed = append(missed, fmt.Sprintf("%s healed at %s", rc.Kind, secs(rc.Heal)))
		}
	}
	c.SystemOut = out.String()
	switch {
	case len(missed) > 0:
		c.Failure = &junit.Problem{Type: "unavailable", Message: fmt.Sprintf("no operation succeeded after %s: %s", plural(len(missed), "heal", "heals"), strings.Join(missed, "; ")), Body: out.String()}
	case r.History.Len() > 0 && a.Ok == 0:
		c.Failure = &junit.Problem{Type: "unavailable", Message: fmt.Sprintf("none of %d operations succeeded", r.History.Len()), Body: out.String()}
	}
	return c
}
